// The demo storefront: the npm package used exactly as a store would use it.
// Everything the shopper does stays in this page (and localStorage); the
// only requests are the static files and the model bundle, and — only if
// the shopper opts in on the privacy page — differentially private reports.
//
// The page never waits for the model: products come from the store's own
// catalog (catalog.json, as a real store has its products in its pages),
// the engine loads and runs in a Web Worker (`edgerec/worker`), and each
// recommendation slot is filled when its answer arrives — the most popular
// products first, as the catalog orders them, until the engine is ready.
import { Recommender } from 'edgerec/worker';
import { formatPounds } from './money.mjs';
import { matchCount, search } from './search.mjs';

/** The hashed URLs the page names (index.html's preloads), else the plain ones. */
function assetUrl(id, fallback) {
  const el = document.getElementById(id);
  const href = el?.getAttribute('href') ?? el?.getAttribute('content');
  return href && !href.includes('{{') ? href : fallback;
}
const BUNDLE_URL = assetUrl('edgerec-bundle', '/vendor/edgerec/models/online-retail/online-retail.edgerec');
const WASM = assetUrl('edgerec-wasm', undefined);
const CATALOG_URL = assetUrl('store-catalog', '/catalog.json');
const STORAGE_KEY = 'edgerec-demo:v1';
/** Where the package keeps this shopper's offer caps and experiment state. */
const OFFER_STATE_KEY = 'edgerec-demo:offers';
const MAX_STORED_EVENTS = 200;
/**
 * How the store learns from reports: by default noised reports to its
 * collector (the demo server accepts them; a real store points at its
 * Worker); with the page's `edgerec-reporting` set to Prio3, secret shares
 * to two aggregators run by different parties.
 */
const REPORTING = (() => {
  try {
    const how = JSON.parse(document.getElementById('edgerec-reporting')?.getAttribute('content') || 'null');
    return how?.mechanism === 'prio3' ? how : null;
  } catch {
    return null;
  }
})();
const REPORTS_URL = REPORTING ? `${REPORTING.leader}/v1/reports?store=${encodeURIComponent(REPORTING.store ?? 'default')}` : '/v1/reports';
const PAGE_SIZE = 24;
/**
 * The store's debug view (`localStorage['edgerec-demo:debug'] = '1'`): the
 * figures behind each reason and each offer's decision trace. Shoppers see
 * the reasons in plain words only.
 */
const DEBUG = (() => {
  try {
    return localStorage.getItem('edgerec-demo:debug') === '1';
  } catch {
    return false;
  }
})();

const view = document.getElementById('view');

// ---- tiny DOM helper: text is always set as text, never as HTML ----
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== false) el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

// ---- per-shopper state, kept on the device ----
function loadState() {
  try {
    const s = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}');
    return { events: Array.isArray(s.events) ? s.events : [], cart: Array.isArray(s.cart) ? s.cart : [] };
  } catch {
    return { events: [], cart: [] };
  }
}
const state = loadState();
const save = () => localStorage.setItem(STORAGE_KEY, JSON.stringify(state));

// ---- the engine, in a worker; `engine` resolves once it is ready ----
let rec = null;
let engine;
let catalog = [];
const byId = new Map();
let firstRecommendationShown = false;

/** Run `fn(rec)` once the engine is ready (calls stay in order). */
const withEngine = (fn) => engine.then(fn);

function track(type, item) {
  // Before the engine is ready the stored session is its input (replayed on load).
  Promise.resolve(rec?.track({ type, item })).catch(() => {});
  state.events.push({ type, item });
  state.events.splice(0, Math.max(0, state.events.length - MAX_STORED_EVENTS));
  if (type === 'add_to_cart' && !state.cart.includes(item)) state.cart.push(item);
  if (type === 'remove_from_cart' || type === 'purchase') state.cart = state.cart.filter((x) => x !== item);
  save();
  updateCartCount();
}

function updateCartCount() {
  document.getElementById('cart-count').textContent = String(state.cart.length);
}

function markFirstRecommendation(source) {
  window.edgerecDemo ??= {};
  if (source === 'popular') {
    window.edgerecDemo.firstPopularMs ??= performance.now();
    return;
  }
  if (firstRecommendationShown) return;
  firstRecommendationShown = true;
  performance.mark('edgerec:first-recommendation');
  window.edgerecDemo.firstRecommendationMs = performance.now();
}

/**
 * A placeholder section now, replaced by `make(rec)`'s section when the
 * engine has answered (unless the shopper has moved on).
 */
function later(name, title, make, early = null, onScreen = null) {
  const placeholder = early ?? h('section', { class: 'slot pending', 'data-pending': name, 'aria-busy': 'true' },
    h('h2', {}, title), h('p', { class: 'empty' }, 'Finding suggestions…'));
  withEngine(async (r) => {
    const section = await make(r);
    if (!placeholder.isConnected) return;
    placeholder.replaceWith(section);
    await onScreen?.(r);
  }).catch((err) => {
    if (placeholder.isConnected) placeholder.replaceWith(h('p', { class: 'error' }, `Suggestions are unavailable: ${err.message}`));
  });
  return placeholder;
}

// ---- rendering ----
function thumb(item) {
  let hash = 0;
  for (const ch of item.category || item.item) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const initials = item.title.split(/\s+/).slice(0, 2).map((w) => w[0]).join('');
  // Dark enough for white initials at 4.5:1 on every hue.
  return h('div', { class: 'thumb', style: `background:hsl(${hash % 360} 45% 30%)`, 'aria-hidden': 'true' }, initials);
}

/** Text only a screen reader reads: what a repeated label is about. */
const unseen = (text) => h('span', { class: 'sr-only' }, text);

function addButton(item) {
  const inCart = state.cart.includes(item);
  const title = byId.get(item)?.title ?? item;
  return h('button', {
    type: 'button',
    class: inCart ? 'secondary' : undefined,
    'data-testid': `add-${item}`,
    disabled: inCart,
    onclick: () => { track('add_to_cart', item); announce(`${title} added to your cart`); route(); },
  }, ...(inCart ? ['In cart'] : ['Add', unseen(` ${title}`), ' to cart']));
}

function why(reasons, title) {
  return h('details', { class: 'why', 'data-testid': 'why' },
    h('summary', {}, 'Why this?', title ? unseen(` (${title})`) : null),
    h('ul', {}, reasons.map((r) => h('li', { 'data-code': r.code }, r.text,
      DEBUG && r.detail ? h('span', { class: 'detail', 'data-testid': 'reason-detail' }, ` (${r.detail})`) : null))));
}

function productCard(p, reasons) {
  return h('div', { class: 'card', 'data-item': p.item },
    thumb(p),
    h('a', { class: 'title', href: `#/p/${encodeURIComponent(p.item)}` }, p.title),
    h('span', { class: 'meta' }, p.category),
    h('span', { class: 'price' }, formatPounds(p.price),
      p.regularPrice ? h('s', { 'aria-label': `was ${formatPounds(p.regularPrice)}` }, ` ${formatPounds(p.regularPrice)}`) : null),
    reasons ? why(reasons, p.title) : null,
    addButton(p.item));
}

function slot(name, title, items, source = 'engine') {
  markFirstRecommendation(source);
  return h('section', { class: 'slot', 'data-slot': name, 'data-source': source },
    h('h2', {}, title),
    items.length ? h('div', { class: 'grid' }, items.map((r) => productCard(r, r.reasons)))
      : h('p', { class: 'empty' }, 'Nothing to suggest yet.'));
}

function bundleSlot(bundles) {
  markFirstRecommendation('engine');
  const b = bundles[0];
  const body = !b ? h('p', { class: 'empty' }, 'No set to complete for this item.')
    : h('div', { class: 'bundle' },
      b.items.map((it, i) => [i ? h('span', { class: 'plus' }, '+') : null,
        h('a', { href: `#/p/${encodeURIComponent(it.item)}`, 'data-item': it.item }, `${it.title} (${formatPounds(it.price)})`)]),
      h('div', { class: 'total' },
        h('span', { 'data-testid': 'bundle-total' }, `Set total: `, h('strong', {}, formatPounds(b.totalPrice))),
        h('button', {
          type: 'button', 'data-testid': 'add-bundle',
          onclick: () => { for (const it of b.items) if (!state.cart.includes(it.item)) track('add_to_cart', it.item); route(); },
        }, 'Add the set to cart')),
      why(b.reasons));
  return h('section', { class: 'slot', 'data-slot': 'completeTheSet' }, h('h2', {}, 'Complete the set'), body);
}

// ---- the next-best offer, decided on the device under the store's policy ----
/**
 * What the page tells the policy about this visit (the context fields the
 * default policy declares): a web shopper, not signed in (this demo store
 * has no accounts), on a phone-sized screen or not.
 */
const CONTEXT = { channel: 'web', device: matchMedia('(max-width: 700px)').matches ? 'mobile' : 'desktop', loggedIn: false };

function traceList(decision) {
  if (!DEBUG) return null;
  const arm = decision.arm;
  const lines = [];
  if (arm) lines.push(h('li', { 'data-testid': 'arm' }, `Experiment ${arm.experiment}: arm “${arm.arm}”${arm.holdout ? ' (holdout: no offers)' : ''}${arm.bandit ? ' (bandit)' : ''}`));
  for (const c of decision.slotCaps) lines.push(h('li', {}, `slot cap ${c.cap}: ${c.count} of ${c.limit} ${c.passed ? '✓' : '✗'}`));
  for (const t of decision.trace) {
    const parts = t.parts ? Object.entries(t.parts).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ') : '';
    lines.push(h('li', { 'data-offer': t.offer, 'data-verdict': t.verdict },
      h('strong', {}, `${t.offer}${t.fallback ? ' (fallback)' : ''}: ${t.verdict}`),
      t.score !== undefined ? ` · score ${t.score.toFixed(3)} (${parts})` : '',
      t.sample !== undefined ? ` · Thompson draw ${t.sample.toFixed(3)}` : '',
      t.expectedValue !== undefined ? ` · P(take) ${t.pTake.toFixed(3)} × value ${formatPounds(t.value)} = ${formatPounds(t.expectedValue)}` : '',
      h('ul', {},
        t.rules.map((r) => h('li', {}, `${r.passed ? '✓' : '✗'} ${r.rule}${r.detail ? ` (${r.detail})` : ''}`)),
        t.caps.map((c) => h('li', {}, `${c.passed ? '✓' : '✗'} cap ${c.cap}: ${c.count ?? 'never'} of ${c.limit}`)),
        t.rejected ? h('li', {}, `${t.rejected} candidates passed over`) : null)));
  }
  return h('details', { class: 'trace', 'data-testid': 'trace' }, h('summary', {}, 'How this offer was chosen (store view)'), h('ul', {}, lines));
}

/**
 * The offer of a policy slot, decided when the engine is ready; its
 * impression counts once it is on screen (a re-render of the same page
 * view counts nothing: the engine tells them apart).
 */
function offerSlot(name, title, request, slotName, decided = withEngine((r) => r.nextBestOffer(request))) {
  let decision;
  return later(name, title, async () => offerBox(decision = await decided, slotName), null, (r) => r.shown(decision));
}

function offerBox(decision, slotName = 'offer') {
  markFirstRecommendation('engine');
  const offer = decision.offer;
  if (!offer) {
    const why = decision.arm?.holdout ? 'You are in the holdout group: no offers.' : 'No offer here yet.';
    return h('section', { class: 'offer empty', 'data-slot': slotName }, h('p', { class: 'empty' }, why), traceList(decision));
  }
  const feedback = (outcome) => withEngine((r) => r.feedback({ slot: decision.slot, offer: offer.id, outcome }));
  if (offer.kind === 'action') return actionBox(decision, slotName, feedback);
  const adds = offer.items.filter((it) => it.add);
  // "Add all" adds the whole set, the item it is built around too: the box names every item it adds.
  const toAdd = offer.items.filter((it) => !state.cart.includes(it.item));
  return h('section', { class: 'offer', 'data-slot': slotName, 'data-offer': offer.id, 'data-kind': offer.kind },
    h('h2', {}, offer.message ?? 'You might also like'),
    offer.bundle ? h('p', { class: 'set-members', 'data-testid': 'offer-set' }, 'The set: ',
      offer.items.map((it) => `${it.title}${it.add ? '' : ' (this item)'}`).join(' + ')) : null,
    h('div', { class: 'grid' }, adds.map((it) => productCard(it))),
    offer.bundle ? h('p', { class: 'total', 'data-testid': 'offer-price' },
      `Together: ${formatPounds(offer.bundle.discountedPrice)}`,
      offer.bundle.discountPercent ? h('s', {}, ` ${formatPounds(offer.bundle.totalPrice)}`) : null) : null,
    h('p', {},
      adds.length > 1 ? h('button', {
        type: 'button', 'data-testid': 'take-offer',
        // The whole set, the item it is built around included: its price holds for the set.
        onclick: async () => { await feedback('click'); for (const it of offer.items) if (!state.cart.includes(it.item)) track('add_to_cart', it.item); route(); },
      }, `Add all ${toAdd.length} to cart`) : null,
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'dismiss-offer', onclick: async () => { await feedback('dismiss'); route(); } }, 'No thanks')),
    why(offer.reasons),
    traceList(decision));
}

/**
 * An action offer: something the store asks of the shopper, with its
 * message, its call to action and why it shows. This demo store has no
 * accounts, so taking it says thanks in place of a sign-up page.
 */
function actionBox(decision, slotName, feedback) {
  const { offer } = decision;
  const cta = typeof offer.action.payload?.cta === 'string' ? offer.action.payload.cta : offer.action.title;
  const box = h('section', { class: 'offer action', 'data-slot': slotName, 'data-offer': offer.id, 'data-kind': 'action' },
    h('h2', {}, offer.action.title),
    h('p', {}, offer.message),
    h('p', {},
      h('button', {
        type: 'button', 'data-testid': 'take-action',
        onclick: async () => {
          await feedback('click');
          box.replaceChildren(h('h2', {}, offer.action.title), h('p', { role: 'status' }, 'Thank you, you are in. (This demo store has no accounts: nothing was saved.)'));
        },
      }, cta),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'dismiss-offer', onclick: async () => { await feedback('dismiss'); route(); } }, 'No thanks')),
    why(offer.reasons),
    traceList(decision));
  return box;
}

function showHome() {
  const query = document.getElementById('search').value.trim();
  const title = state.events.length ? 'Recommended for you' : 'Popular right now';
  // Before the engine answers, a new shopper sees the bestsellers at once.
  const early = rec || state.events.length ? null : slot('recommended', title, catalog.slice(0, 8), 'popular');
  const recommended = later('recommended', title, async (r) => slot('recommended', title, (await r.page({ k: 8, slots: ['recommended'] })).recommended), early);
  const matches = search(catalog, query);
  let shown = PAGE_SIZE;
  const grid = h('div', { class: 'grid', 'data-testid': 'product-grid' });
  const more = h('button', { type: 'button', class: 'secondary', onclick: () => { shown += PAGE_SIZE; fill(); } }, 'Show more');
  const fill = () => {
    grid.replaceChildren(...matches.slice(0, shown).map((p) => productCard(p)));
    more.hidden = shown >= matches.length;
  };
  fill();
  view.replaceChildren(
    h('h1', {}, 'Gifts and homeware'),
    recommended,
    h('h2', {}, query ? matchCount(matches.length, query) : `All products (${catalog.length})`),
    grid, more);
  if (query) announce(matchCount(matches.length, query));
}

/**
 * A new page view: each navigation is one (a `view` event), except a reload
 * of the page last viewed. A re-render after a click is not one, so the
 * offers it redraws count no new impression.
 */
function pageView(item, navigated) {
  const lastView = state.events.findLast((e) => e.type === 'view');
  if (navigated === 'link' || lastView?.item !== item) track('view', item);
}

function showProduct(id, navigated) {
  const p = byId.get(id);
  if (!p) {
    view.replaceChildren(h('p', { class: 'error' }, `No product ${id} in this store.`));
    return;
  }
  if (navigated) pageView(id, navigated);
  // The offer first, then one request for the page's slots, shared by its
  // four sections: an item appears once on the page (the offer's items in
  // no slot), and a set offer is the page's only set.
  const decided = withEngine((r) => r.nextBestOffer({ slot: 'product', anchor: id, context: CONTEXT }));
  const page = decided.then(async (d) => {
    const slots = ['boughtTogether', 'similar', 'recommended'];
    if (!d.offer?.bundle) slots.unshift('completeTheSet');
    return (await engine).page({ anchor: id, k: 6, slots, exclude: d.offer?.items.filter((it) => it.add).map((it) => it.item) ?? [] });
  });
  view.replaceChildren(
    h('article', { class: 'product', 'data-testid': 'product', 'data-item': id },
      thumb(p),
      h('div', {},
        h('h1', {}, p.title),
        h('p', { class: 'meta' }, `Item ${p.item} · ${p.category} · ${p.inStock ? 'in stock' : 'out of stock'}`),
        h('p', { class: 'price' }, formatPounds(p.price)),
        addButton(p.item))),
    offerSlot('product-offer', 'An offer for you', null, 'product-offer', decided),
    later('boughtTogether', 'Frequently bought together', async () => slot('boughtTogether', 'Frequently bought together', (await page).boughtTogether)),
    later('completeTheSet', 'Complete the set', async () => {
      const sets = (await page).completeTheSet;
      return sets ? bundleSlot(sets) : document.createComment('the offer is this page’s set');
    }),
    later('similar', 'Similar items', async () => slot('similar', 'Similar items', (await page).similar)),
    later('recommended', 'Recommended for you', async () => slot('recommended', 'Recommended for you', (await page).recommended)));
}

/**
 * The cart's totals as checkout charges them: the engine prices the lines
 * with the set discounts its offers showed (once the whole set is here).
 * Until it answers, the plain sum, marked as not final.
 */
function cartTotals(lines, sum) {
  const row = (label, amount, attrs = {}) => h('div', { class: 'cart-line', ...attrs }, h('span', { class: 'grow' }, label), h('span', {}, amount));
  const plain = h('div', { 'data-testid': 'cart-totals', 'aria-busy': 'true' },
    h('div', { class: 'cart-line' }, h('strong', { class: 'grow' }, 'Total'), h('strong', { 'data-testid': 'cart-total' }, formatPounds(sum))));
  withEngine(async (r) => {
    const priced = await r.priceCart({ lines: lines.map((p) => ({ item: p.item })) });
    if (!plain.isConnected) return;
    plain.replaceWith(h('div', { 'data-testid': 'cart-totals' },
      priced.discounts.length ? row('Subtotal', formatPounds(priced.subtotal)) : null,
      priced.discounts.map((d) => row(`${d.percent}% off ${d.discounted.map((id) => byId.get(id)?.title ?? id).join(' and ')}, bought as a set`,
        `−${formatPounds(d.amount)}`, { class: 'cart-line discount', 'data-testid': 'cart-discount', 'data-offer': d.offer })),
      delivery(priced.total, (await r.policy).offers?.find((o) => o.kind === 'fillTheGap')?.threshold),
      h('div', { class: 'cart-line' }, h('strong', { class: 'grow' }, 'Total'), h('strong', { 'data-testid': 'cart-total' }, formatPounds(priced.total)))));
  }).catch(() => plain.removeAttribute('aria-busy'));
  return plain;
}

/** The store's free-delivery line, when its policy fills a gap to a threshold. */
function delivery(total, threshold) {
  if (!threshold) return null;
  const free = total >= threshold;
  return h('div', { class: 'cart-line', 'data-testid': 'delivery' },
    h('span', { class: 'grow' }, free ? 'Delivery' : `Delivery (free from ${formatPounds(threshold)})`),
    h('span', {}, free ? 'Free' : 'At checkout'));
}

function showCart(navigated) {
  // Not a catalog item: the engine counts it as a page view and nothing else.
  if (navigated) pageView('page:cart', navigated);
  const lines = state.cart.map((id) => byId.get(id)).filter(Boolean);
  const total = lines.reduce((s, p) => s + p.price, 0);
  view.replaceChildren(
    h('h1', {}, 'Your cart'),
    lines.length ? h('div', { class: 'cart-lines', 'data-testid': 'cart-lines' },
      lines.map((p) => h('div', { class: 'cart-line', 'data-item': p.item },
        thumb(p),
        h('a', { class: 'grow', href: `#/p/${encodeURIComponent(p.item)}` }, p.title),
        h('span', { class: 'price' }, formatPounds(p.price)),
        h('button', { type: 'button', class: 'secondary', onclick: () => { track('remove_from_cart', p.item); announce(`${p.title} removed from your cart`); route(); } }, 'Remove', unseen(` ${p.title}`)))),
      cartTotals(lines, total))
      : h('p', { class: 'empty' }, 'Your cart is empty.'),
    offerSlot('offer', 'An offer for your order', { slot: 'cart', context: CONTEXT }),
    lines.length ? h('p', {}, h('button', {
      type: 'button', 'data-testid': 'checkout',
      onclick: () => { for (const p of lines) track('purchase', p.item); view.replaceChildren(h('h1', {}, 'Thank you for your order!'), h('p', {}, h('a', { href: '#/' }, 'Keep shopping'))); },
    }, 'Check out')) : null);
}

// ---- the privacy panel: consent, and the next report byte for byte ----
const WITHHELD = {
  noConsent: 'Sharing is off: nothing is counted and nothing is sent.',
  nothingPending: 'Nothing to report yet today.',
  budgetSpent: 'Today’s privacy budget is spent: no more reports until tomorrow.',
};

/** Who the noise protects against, in the shopper's words. */
const MECHANISM_EXPLAINED = {
  local: 'Each report carries all its noise, so not even the store\'s collector can tell what you did.',
  distributed: 'Each report carries a share of the noise; only sums over many shoppers are protected, and the store\'s collector keeps nothing but those sums.',
  prio3: 'Each report leaves this browser split into two encrypted halves, one for each of two servers run by different organisations, '
    + 'with a proof that every count is in range; neither server can read a half alone, and each adds its own noise before any total is released.',
};

async function sendReports() {
  const options = REPORTING ? { keepalive: true, helper: REPORTING.helper } : { keepalive: true };
  const { sent } = await withEngine((r) => r.sendReports(REPORTS_URL, options));
  return sent;
}

function showPrivacy(note = '') {
  view.replaceChildren(h('h1', {}, 'Privacy'), later('privacy', 'Your privacy settings', (r) => privacyPanel(r, note)));
}

async function privacyPanel(r, note) {
  const [status, next] = await Promise.all([r.privacy(), r.previewReport()]);
  const toggle = h('input', {
    type: 'checkbox', id: 'consent', 'data-testid': 'consent', checked: status.consent,
    onchange: async (e) => { await r.setConsent(e.target.checked); showPrivacy(); },
  });
  const sendButton = h('button', {
    type: 'button', 'data-testid': 'send-reports', disabled: next === null,
    onclick: async () => { sendButton.disabled = true; const n = await sendReports(); showPrivacy(`${n} report${n === 1 ? '' : 's'} sent.`); },
  }, 'Send now');
  const sentNote = h('p', { class: 'meta', 'data-testid': 'sent-note' }, note);
  return h('section', { class: 'privacy', 'data-slot': 'privacy' },
    h('p', { 'data-testid': 'noise-explained' }, 'Every count this store could learn from you is changed by random noise before it leaves this browser, ',
      'so a count below may read −10 or 3 when you did nothing: the store sees totals over many shoppers, never what you did.'),
    h('p', {}, 'Recommendations and offers are computed in this browser; what you view and buy stays here. ',
      'If you agree, this store learns which offers work from small daily reports: counts per offer, each changed by random noise ',
      `(differential privacy, ε = ${status.epsilonPerReport} per report, at most ${status.epsilonPerDay} per day), with no identifier, no items you looked at and no times finer than the day. `,
      MECHANISM_EXPLAINED[status.mechanism] ?? MECHANISM_EXPLAINED.distributed),
    h('p', {}, h('label', { for: 'consent' }, toggle, ' Share anonymous, noised offer statistics')),
    h('p', { class: 'meta', 'data-testid': 'privacy-status' },
      `Budget spent today: ε ${status.spentToday} of ${status.epsilonPerDay} · days pending: ${status.pendingDays}`),
    h('h2', {}, status.mechanism === 'prio3' ? 'What the next report’s two sealed shares hide (never sent like this)' : 'The next report, exactly as it would be sent'),
    next === null ? h('p', { class: 'empty', 'data-testid': 'next-report-none' }, WITHHELD[status.withheld] ?? 'Nothing would be sent.')
      : h('pre', { class: 'report', 'data-testid': 'next-report' }, next),
    h('p', {}, sendButton), sentNote);
}

/** Draw the page of the URL: `navigated` is 'link' or 'load' for a new page, unset for a re-render. */
function route(navigated) {
  const hash = location.hash || '#/';
  // Focus goes to the new view's heading after a navigation, and back to
  // the same control after a re-render (never to <body>).
  const active = document.activeElement;
  const keep = view.contains(active) ? active.dataset.testid : null;
  try {
    if (hash.startsWith('#/p/')) showProduct(decodeURIComponent(hash.slice(4)), navigated);
    else if (hash === '#/cart') showCart(navigated);
    else if (hash === '#/privacy') showPrivacy();
    else showHome();
  } catch (err) {
    view.replaceChildren(h('p', { class: 'error' }, `Something went wrong: ${err.message}`));
    console.error(err);
  }
  const again = keep ? view.querySelector(`[data-testid="${CSS.escape(keep)}"]:not([disabled])`) : null;
  if (again) again.focus();
  else if (navigated === 'link' || keep !== null) focusHeading();
}

function focusHeading() {
  const heading = view.querySelector('h1');
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: true });
}

/** A short status message for screen readers (the page's one live region). */
let announced = 0;
function announce(text) {
  const status = document.getElementById('status');
  const n = ++announced;
  // Set after a beat, so a message repeated (the same search twice) is read again.
  status.textContent = '';
  setTimeout(() => { if (n === announced) status.textContent = text; }, 100);
}

/** The engine: in a worker where the browser has them, else on this thread. */
async function loadEngine() {
  const options = { storageKey: OFFER_STATE_KEY, wasm: WASM, ...(REPORTING ? { reporting: { mechanism: 'prio3' } } : {}) };
  let r;
  try {
    r = await Recommender.load(BUNDLE_URL, options);
  } catch (err) {
    if (err.code !== 'MODULE_LOAD' || typeof Worker !== 'undefined') throw err;
    const { Recommender: OnThisThread } = await import('edgerec');
    r = await OnThisThread.load(BUNDLE_URL, options);
  }
  // Replay this shopper's stored session (calls reach the engine in order,
  // so what is tracked from now on comes after it).
  r.restore(state.events);
  rec = r;
  return r;
}

/** The store's own product data; the engine's catalog if it cannot be had. */
async function loadCatalog() {
  try {
    const res = await fetch(CATALOG_URL);
    if (res.ok) return await res.json();
  } catch {
    // fall through to the engine's copy
  }
  return (await engine).catalog();
}

async function main() {
  engine = loadEngine();
  engine.catch((err) => {
    document.getElementById('notice').replaceChildren(
      h('p', { class: 'error', 'data-testid': 'status' }, `Suggestions are unavailable (${err.code ?? 'ERROR'}): ${err.message}`));
  });
  try {
    catalog = await loadCatalog();
  } catch (err) {
    view.replaceChildren(h('p', { class: 'error', 'data-testid': 'status' }, `The store did not load (${err.code ?? 'ERROR'}): ${err.message}`));
    return;
  }
  for (const p of catalog) byId.set(p.item, p);
  state.cart = state.cart.filter((id) => byId.has(id));
  updateCartCount();
  window.addEventListener('hashchange', () => { route('link'); window.scrollTo(0, 0); });
  document.getElementById('search').addEventListener('input', () => { if ((location.hash || '#/') === '#/') showHome(); else location.hash = '#/'; });
  document.getElementById('forget').addEventListener('click', async () => {
    localStorage.removeItem(STORAGE_KEY);
    localStorage.removeItem(OFFER_STATE_KEY);
    state.events = [];
    state.cart = [];
    await withEngine(async (r) => {
      const kept = JSON.parse(await r.exportState());
      // Forget the history, pending report counts included; keep the consent choice and the budget spent.
      await r.importState(JSON.stringify({ ...kept, log: [], bandit: {}, ledger: { ...kept.ledger, pending: [] } }));
      await r.reset();
    }).catch(() => {});
    updateCartCount();
    route();
  });
  // Reports (only with consent) leave when the shopper leaves the page.
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') sendReports().catch(() => {}); });
  route('load');
}

main();
