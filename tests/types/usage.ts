// Every public API the README and docs/ show, in TypeScript: `tsc --strict`
// checks it against index.d.ts and js/worker.d.ts, and Node then runs the
// compiled file against the real engine, comparing the keys of what each call
// returns with the keys its interface declares — so a type that drifts from
// the code fails `npm test` (tests/js/types.test.mjs) either way. The docs'
// own examples are type-checked as they are by tests/js/doc-examples.test.mjs.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Recommender, MAX_BODY_BYTES } from 'edgerec';
import type {
  ItemFilter, ItemUpdate, ItemsUpdated, Promotion,
  ActionContent, BlendWeights, BundleInfo, CartPrice, ChosenOffer, Decision, OfferContext, EdgerecError, ErrorCode, ItemBundle, OfferTrace, Page, Prio3Task,
  PrivacyStatus, Reason, Recommendation, Recommendations, ReleasedAggregates, ReleasePlacement, ScoreParts, TrackEvent,
} from 'edgerec';
import { Recommender as WorkerRecommender } from 'edgerec/worker';
import { createRecommender } from 'edgerec/embedded';
// The script-tag entry runs in a page only (it defines a custom element): types alone here.
import type { EdgerecSlot, SlotItem } from 'edgerec/element';
import type * as Element from 'edgerec/element';

/** The keys an interface declares, listed once: the compiler refuses a missing or an extra one. */
type Keys<T> = Record<keyof T, true>;

const recommendationKeys: Keys<Recommendation> = {
  item: true, title: true, price: true, category: true, inStock: true, score: true, parts: true, reasons: true,
  regularPrice: true, url: true, image: true, promotion: true,
};
const VIEW_OPTIONAL = ['regularPrice', 'url', 'image', 'promotion'];
const partsKeys: Keys<ScoreParts> = {
  model: true, copurchase: true, lift: true, margin: true, priceStep: true, popularity: true, revisit: true, taken: true,
};
const reasonKeys: Keys<Reason> = { code: true, text: true, detail: true };
const statsKeys: Keys<Recommendations['stats']> = { unknownItems: true, sessionLength: true, encoded: true };
const pageKeys: Keys<Page> = { recommended: true, similar: true, boughtTogether: true, completeTheSet: true, stats: true };
const bundleKeys: Keys<ItemBundle> = { items: true, totalPrice: true, score: true, reasons: true };
const decisionKeys: Keys<Decision> = {
  id: true, policy: true, slot: true, offer: true, fallback: true, arm: true, slotCaps: true, trace: true,
};
const offerKeys: Keys<ChosenOffer> = {
  id: true, kind: true, message: true, items: true, bundle: true, score: true, parts: true, reasons: true,
  action: true, gap: true, pTake: true, value: true, expectedValue: true,
};
const traceKeys: Keys<OfferTrace> = {
  offer: true, verdict: true, fallback: true, priority: true, rules: true, rejected: true, caps: true, score: true,
  parts: true, sample: true, pTake: true, value: true, expectedValue: true,
};
const cartKeys: Keys<CartPrice> = { lines: true, subtotal: true, discounts: true, total: true };
const privacyKeys: Keys<PrivacyStatus> = {
  consent: true, epsilonPerDay: true, epsilonPerReport: true, mechanism: true, spentToday: true, pendingDays: true,
  withheld: true,
};
const infoKeys: Keys<BundleInfo> = {
  version: true, formatVersion: true, itemCount: true, dim: true, maxSeqLen: true, modelCard: true, blend: true, release: true,
};
const blendKeys: Keys<BlendWeights> = { model: true, copurchase: true, popularity: true, recency: true, revisit: true };

const drift: string[] = [];
/** Every key `value` has is declared, and every declared key it lacks is optional in `optional`. */
function check(name: string, value: object | null | undefined, declared: object, optional: string[] = []): void {
  if (value === null || value === undefined) return;
  const have = Object.keys(value);
  const want = Object.keys(declared);
  for (const k of have) if (!want.includes(k)) drift.push(`${name}.${k} is returned but not declared`);
  for (const k of want) if (!have.includes(k) && !optional.includes(k)) drift.push(`${name}.${k} is declared but not returned`);
}

const bytes = await readFile('models/online-retail/online-retail.edgerec'); // npm test runs in the package root
const rec: Recommender = await Recommender.load(bytes, { storage: null, clock: () => 1.7e12, consent: true });
const first: string = rec.catalog()[0].item;
const event: TrackEvent = { type: 'view', item: first };
rec.track(event);
rec.track('add_to_cart', first);

const { items, stats }: Recommendations = rec.recommend({ k: 5, anchor: first, exclude: [], includeViewed: false });
check('Recommendation', items[0], recommendationKeys, VIEW_OPTIONAL);
check('ScoreParts', items[0].parts, partsKeys);
for (const r of items.flatMap((i) => i.reasons)) check('Reason', r, reasonKeys, ['detail']);
check('Recommendations.stats', stats, statsKeys);

const page: Page = rec.page({ anchor: first, k: 6, slots: ['recommended', 'similar', 'boughtTogether', 'completeTheSet'] });
check('Page', page, pageKeys);
// A page refuses includeViewed (INVALID_OPTIONS), and its type says so.
// @ts-expect-error: not a PageOptions field
assert.throws(() => rec.page({ anchor: first, includeViewed: true }), { code: 'INVALID_OPTIONS' });

const update: ItemUpdate = { id: 'NEW-1', title: 'Pink Regency Cakestand 3 Tier', category: 'cake stand', price: 14.95, salePrice: 12.95, url: '/p/new-1' };
const updated: ItemsUpdated = rec.updateItems([update, { id: first, inStock: true }]);
check('ItemsUpdated', updated, { changed: true, added: true, placedFromContent: true } satisfies Keys<ItemsUpdated>);
const filter: ItemFilter = { categories: ['cake stand'], maxPrice: 20, inStock: true, excludeIds: [first] };
const onSale = rec.recommend({ k: 5, filter }).items.find((r) => r.item === 'NEW-1');
check('Recommendation (updated)', onSale, recommendationKeys, ['image', 'promotion']);
const promotion: Promotion = { name: 'cake-stands', percent: 40, filter: { categories: ['cake stand'] } };
const promoted = rec.recommend({ k: 5, promotion }).items.find((r) => r.promotion === 'cake-stands');
check('Recommendation (promoted)', promoted, recommendationKeys, ['regularPrice', 'url', 'image']);
rec.nextBestOffer({ slot: 'product', anchor: 'NEW-1', exclude: [first], filter });
check('ItemBundle', page.completeTheSet?.[0], bundleKeys);

for (const slot of ['product', 'cart', 'post-purchase', 'message', 'service']) {
  const context: OfferContext = { channel: slot === 'service' ? 'agent' : 'web', device: 'mobile', loggedIn: false };
  const d: Decision = rec.nextBestOffer({ slot, anchor: first, segments: [], context });
  check('Decision', d, decisionKeys);
  check('ChosenOffer', d.offer, offerKeys, ['message', 'bundle', 'action', 'gap']);
  if (d.offer?.action) check('ActionContent', d.offer.action, { title: true, url: true, payload: true } satisfies Keys<ActionContent>, ['url', 'payload']);
  for (const t of d.trace) check('OfferTrace', t, traceKeys, ['score', 'parts', 'sample', 'pTake', 'value', 'expectedValue']);
  rec.shown(d);
  if (d.offer) rec.feedback({ slot, offer: d.offer.id, outcome: 'click' });
}
const cart: CartPrice = rec.priceCart({ lines: [{ item: first, quantity: 2 }] });
check('CartPrice', cart, cartKeys);
check('CartPrice (the session\'s cart)', rec.priceCart(), cartKeys);

rec.setConsent(true);
const privacy: PrivacyStatus = rec.privacy();
check('PrivacyStatus', privacy, privacyKeys);
const preview: string | null = rec.previewReport();
const report: string | null = rec.takeReport();
const aggregates: ReleasedAggregates = { policy: rec.policyId, k: 50, cells: [], visits: [] };
const seeded: number = rec.loadAggregates(aggregates);
const priors: number = rec.loadPriors({ 'complete-the-set': { shown: 5210, taken: 388 } });
const policyId: string = rec.usePolicy(JSON.parse(await readFile('models/online-retail/policy.json', 'utf8')));
const state: string = rec.exportState();
rec.importState(state);
check('BlendWeights', rec.info.blend, blendKeys);

// A server placing a shopper in a release itself.
const info: BundleInfo = rec.info;
const releaseFile = {
  version: 1, experiment: 'model-w49', canaryShare: 0,
  current: { url: 'live.edgerec', version: info.version, dim: info.dim, catalog: info.modelCard.dataset },
};
const placed = await Recommender.placeShopper(releaseFile, 'shopper-1');
check('placeShopper', placed, { placement: true, current: true, fallback: true } satisfies Keys<typeof placed>);
rec.joinRelease(placed.placement);
const placement: ReleasePlacement | null = rec.info.release;
const placementKeys: Keys<ReleasePlacement> = { experiment: true, side: true, share: true, bundle: true, loaded: true, placed: true };
check('ReleasePlacement', placement, placementKeys, ['placed']);
check('BundleInfo', rec.info, infoKeys);

// A page following the store's release file: Recommender.load({ release }).
const releaseDir = await mkdtemp(join(tmpdir(), 'edgerec-usage-'));
const releasePath = join(releaseDir, 'release.json');
await writeFile(releasePath, JSON.stringify({ ...releaseFile, current: { ...releaseFile.current, url: resolve('models/online-retail/online-retail.edgerec') } }));
const released: Recommender = await Recommender.load({
  release: releasePath, storage: null, shopperKey: 'shopper-1', reporting: { mechanism: 'distributed', cohort: 9000 },
});
check('ReleasePlacement (load)', released.info.release, placementKeys, ['placed']);
if (released.releaseError) drift.push(`load({ release }) fell back: ${released.releaseError.code}`);
released.free();

// The Prio3 task a device's reports fill, and reports sent through the host's own fetch.
const task: Prio3Task = rec.prio3Task();
check('Prio3Task', task, { version: true, policy: true, epsilon: true, cells: true, visits: true } satisfies Keys<Prio3Task>);
const sent: { sent: number; waiting: number } = await rec.sendReports('https://collector.test/v1/reports', {
  fetch: async () => new Response('{}'), keepalive: true,
});
check('sendReports', sent, { sent: true, waiting: true });
rec.setConsent(false);
const consent: boolean = rec.consent;
if (consent) drift.push('consent still on after setConsent(false)');

const res: Response = await rec.handleRequest(new Request('http://edge.test/v1/recommend', {
  method: 'POST', body: JSON.stringify({ events: [event], k: 3 }),
}));
if (res.status !== 200) drift.push(`handleRequest answered ${res.status}`);
try {
  rec.track('view', '');
} catch (err) {
  const code: ErrorCode = (err as EdgerecError).code;
  if (typeof code !== 'string') drift.push('errors carry no code');
}
rec.restore([event]);
rec.reset();
rec.free();

// The embedded entry (JavaScriptCore and other hosts): the .wasm handed over as bytes.
const Embedded = createRecommender(await readFile('pkg/edgerec_bg.wasm'));
const embeddedRec: Recommender = await Embedded.load(bytes, { storage: null });
embeddedRec.track('view', first);
check('Page (embedded)', embeddedRec.page({ anchor: first, k: 3 }), pageKeys);
embeddedRec.free();

// The worker and script-tag entries: their shapes are checked by the compiler
// only (no Worker and no DOM in Node).
async function inAPage(url: string, wasm: string): Promise<Page> {
  const w: WorkerRecommender = await WorkerRecommender.load(url, { wasm, storageKey: 'shop:offers' });
  await w.track({ type: 'view', item: '85123A' });
  const d: Decision = await w.nextBestOffer({ slot: 'cart' });
  await w.shown(d);
  return w.page({ anchor: '22386', k: 6 });
}
async function inATheme(element: typeof Element): Promise<string[]> {
  const slot: EdgerecSlot = document.createElement('edgerec-slot');
  slot.setAttribute('list', 'boughtTogether');
  slot.addEventListener('edgerec-render', (e) => console.log(e.detail.items.length));
  await element.track('add_to_cart', '22386');
  const rec = await element.ready;
  const offer: Decision = await rec.nextBestOffer({ slot: 'cart' });
  const items: SlotItem[] = slot.result?.items ?? [];
  await globalThis.edgerec.track('view', '22386');
  return [...items.map((i) => i.reasons[0]?.text ?? ''), offer.slot];
}
void inAPage;
void inATheme;

console.log(JSON.stringify({ drift, checked: { preview: preview !== null, report: report !== null, seeded, priors, policyId, maxBody: MAX_BODY_BYTES } }));
