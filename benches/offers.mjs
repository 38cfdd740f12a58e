// nextBestOffer() with a 200-offer policy on a bundle, in WASM (Node):
// p50/p99 over real session prefixes, beside recommend() on the same
// sessions right after it (the session vector is the decision's: a session
// state is encoded once).
import { Recommender } from '../js/node.mjs';
import { median, quantile } from './stats.mjs';

const OFFERS = 200;

/**
 * A store-sized policy built from the bundle's own catalog: every offer
 * kind (actions and gap fillers too), eligibility rules over cart,
 * categories, prices, segments, page views and context, caps
 * on every offer, all 200 offers competing in one slot.
 */
export function bigPolicy(catalog) {
  const categories = [...new Set(catalog.map((c) => c.category))].slice(0, 50);
  const kinds = ['crossSell', 'upsell', 'completeTheSet', 'item', 'bundle', 'action', 'fillTheGap'];
  const offers = [];
  for (let i = 0; i < OFFERS; i++) {
    const kind = kinds[i % kinds.length];
    // An action has no item: it reads the shopper, the session and the host's context.
    const eligibility = kind === 'action'
      ? [{ pageViews: { min: i % 4 } }, { context: { channel: ['web', 'app'] } }]
      : [{ inStock: true }];
    if (i % 3 === 0) eligibility.push({ categoryViewed: [categories[i % categories.length], categories[(i + 7) % categories.length]] });
    if (i % 4 === 1) eligibility.push({ cartQuantity: { max: 20 } });
    if (i % 5 === 2 && kind !== 'action') eligibility.push({ any: [{ segment: 'vip' }, { price: { max: 50 + i } }] });
    if (i % 7 === 3) eligibility.push({ rule: 'browsing' });
    const offer = {
      id: `offer-${i}`, kind, priority: i % 4, eligibility,
      ranking: { model: 1, lift: 0.5 + (i % 3) * 0.2, margin: 0.2, priceStep: kind === 'upsell' ? 0.3 : 0, popularity: 0.05 },
      caps: { perSession: 3 + (i % 3), perDay: 6, perWeek: 20, afterDismissals: 2 },
    };
    if (kind === 'item') offer.items = [catalog[(i * 37) % catalog.length].item];
    if (kind === 'bundle') offer.items = [catalog[(i * 41) % catalog.length].item, catalog[(i * 43 + 1) % catalog.length].item];
    if (kind === 'crossSell' || kind === 'upsell') offer.count = 1 + (i % 3);
    if (kind === 'crossSell') offer.maxPerCategory = 1;
    if (kind === 'completeTheSet' || kind === 'bundle') offer.discount = { percent: 5 + (i % 10), minItems: 2 };
    if (kind === 'action') Object.assign(offer, { title: `Action ${i}`, message: 'Join us', value: 1 + (i % 20) });
    if (kind === 'action') delete offer.ranking;
    if (kind === 'fillTheGap') Object.assign(offer, { threshold: 20 + (i % 5) * 10, eligibility: [{ inStock: true }, { cartGap: { threshold: 20 + (i % 5) * 10, max: 15 } }] });
    offers.push(offer);
  }
  return {
    version: 1, id: 'bench-200', currency: 'GBP',
    context: { channel: { type: 'string', values: ['web', 'app', 'email'] } },
    rules: { browsing: { not: { cartQuantity: { min: 1 } } } },
    offers,
    slots: [{ id: 'all', placement: 'productPage', offers: offers.map((o) => o.id), fallback: offers[3].id }],
  };
}


export async function benchOffers(bytes, sessions, warmup = 100) {
  const rec = await Recommender.load(bytes, { storage: null, clock: () => 1.7e12, shopperKey: 'bench' });
  const policy = bigPolicy(rec.catalog());
  const t0 = performance.now();
  rec.usePolicy(policy);
  const policyLoad = performance.now() - t0;
  const decide = [];
  const recommend = [];
  const traces = [];
  let shown = 0;
  for (let i = 0; i < warmup + sessions.length; i++) {
    const s = sessions[i % sessions.length];
    rec.reset();
    for (const item of s) rec.track('view', item);
    const a = performance.now();
    const d = rec.nextBestOffer({ slot: 'all', context: { channel: 'web' } });
    const b = performance.now();
    rec.recommend({ k: 10 });
    const c = performance.now();
    // Every 10th decision also reads its trace (200 entries), timed apart.
    const readTrace = i % 10 === 0;
    if (readTrace && d.trace.length !== OFFERS) throw new Error('a trace entry per offer');
    const t = performance.now();
    if (i >= warmup) {
      decide.push(b - a);
      recommend.push(c - b);
      if (readTrace) traces.push(t - c);
      shown += d.offer ? 1 : 0;
    }
  }
  rec.free();
  return {
    offers: OFFERS,
    policyBytes: JSON.stringify(policy).length,
    policyLoad,
    p50: median(decide),
    p99: quantile(decide, 0.99),
    traceReadP50: median(traces),
    traceReadP99: quantile(traces, 0.99),
    recommendP50: median(recommend),
    recommendP99: quantile(recommend, 0.99),
    shownShare: shown / sessions.length,
  };
}
