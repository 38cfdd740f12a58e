// `edgerec/element`: edgerec in a store's own markup, with one script tag and
// no bundler (a Shopify theme, a server-rendered page):
//
//   <script type="module" src="https://cdn.example/npm/edgerec@0.1.0/js/element.mjs"
//           data-bundle="/models/store.edgerec" data-product-url="/products/{item}"></script>
//   <div data-edgerec-view="22386"></div>                     a product page: one view
//   <button data-edgerec-track="add_to_cart" data-edgerec-item="22386">Add to basket</button>
//   <edgerec-slot list="boughtTogether" item="22386" k="4">   a list, in the store's template
//     <template><a data-field="link"><span data-field="title"></span></a>
//       <span data-field="price"></span> <small data-field="reason"></small></template>
//   </edgerec-slot>
//   <edgerec-slot offer="cart"></edgerec-slot>                 a policy slot's one offer
//
// The engine runs in a Web Worker (on this thread where there are none); the
// session is kept in this browser's localStorage, and nothing leaves it.
// An item appears once on a page: the offers are decided first, then each
// item's lists come from one page() call that leaves out what the other
// slots show (and no set list beside a set offer).
import { Recommender as WorkerRecommender } from './worker.mjs';

const LISTS = ['completeTheSet', 'boughtTogether', 'similar', 'recommended'];
const MAX_STORED_EVENTS = 200;

/** The script tag that loaded this module, and the settings it carries. */
function settings() {
  const self = [...document.querySelectorAll('script[src]')].find((s) => s.src === import.meta.url);
  const data = self?.dataset ?? {};
  const storageKey = data.storageKey ?? 'edgerec:element';
  return {
    bundle: data.bundle ?? new URL('../models/online-retail/online-retail.edgerec', import.meta.url).href,
    wasm: data.wasm,
    storageKey,
    sessionKey: `${storageKey}:session`,
    productUrl: data.productUrl ?? '#{item}',
    currency: data.currency ?? 'GBP',
  };
}

const config = settings();

function storedEvents() {
  try {
    const events = JSON.parse(localStorage.getItem(config.sessionKey) ?? '[]');
    return Array.isArray(events) ? events : [];
  } catch {
    return [];
  }
}

const events = storedEvents();
function remember(type, item) {
  events.push({ type, item });
  events.splice(0, Math.max(0, events.length - MAX_STORED_EVENTS));
  try {
    localStorage.setItem(config.sessionKey, JSON.stringify(events));
  } catch {
    // storage full or blocked: the session lives as long as this page
  }
}

async function load() {
  const options = { wasm: config.wasm, storageKey: config.storageKey };
  let rec;
  try {
    rec = await WorkerRecommender.load(config.bundle, options);
  } catch (err) {
    if (err.code !== 'MODULE_LOAD' || typeof Worker !== 'undefined') throw err;
    const { Recommender } = await import('./browser.mjs');
    rec = await Recommender.load(config.bundle, options);
  }
  await rec.restore(events);
  return rec;
}

/** The Recommender, once loaded (the store's own scripts may use it too). */
export const ready = load();
ready.catch(() => {});

/** Record a shopper event, keep it for the next page, and refill the slots. */
export async function track(type, item) {
  const rec = await ready;
  const known = await rec.track(type, item);
  remember(type, item);
  if (type !== 'view') refillAll();
  return known;
}

let money;
function price(amount) {
  money ??= new Intl.NumberFormat(document.documentElement.lang || 'en', { style: 'currency', currency: config.currency });
  return money.format(amount);
}

/** Fill a copy of the slot's template (or a plain list item) with one item: always as text. */
function renderItem(slot, item) {
  const template = slot.querySelector(':scope > template');
  const node = (template ?? DEFAULT_ITEM).content.cloneNode(true);
  const fields = {
    title: item.title, price: price(item.price), item: item.item, category: item.category,
    reason: item.reasons?.[0]?.text ?? '',
  };
  for (const el of node.querySelectorAll('[data-field]')) {
    const field = el.dataset.field;
    if (field === 'link') el.setAttribute('href', config.productUrl.replace('{item}', encodeURIComponent(item.item)));
    else if (field in fields) el.textContent = fields[field];
  }
  for (const el of node.querySelectorAll('[data-edgerec-track]')) el.dataset.edgerecItem = item.item;
  return node;
}

/** An item without a store template: a plain list item (a constant, so innerHTML is safe). */
const DEFAULT_ITEM = document.createElement('template');
DEFAULT_ITEM.innerHTML = '<li><a data-field="link" class="edgerec-title"><span data-field="title"></span></a> '
  + '<span data-field="price" class="edgerec-price"></span> <small data-field="reason" class="edgerec-reason"></small></li>';

/** The items a shopper would add, each carrying the reasons of the offer or set they belong to. */
const toAdd = (items, reasons) => (items ?? []).filter((it) => it.add).map((it) => ({ ...it, reasons }));

/** `<edgerec-slot>`: one list (`list`) or one policy slot's offer (`offer`), around `item`. */
export class EdgerecSlot extends HTMLElement {
  static observedAttributes = ['list', 'offer', 'item', 'k', 'context', 'filter', 'promotion'];

  /** What the slot shows: items with their reasons, and the decision behind an offer. */
  result = null;
  #seen = null;

  connectedCallback() {
    schedule(this);
  }

  attributeChangedCallback() {
    if (this.isConnected) schedule(this);
  }

  disconnectedCallback() {
    this.#seen?.disconnect();
  }

  /** The `context` attribute (JSON: `{"channel": "web", "loggedIn": false}`), for the policy's context predicates. */
  get context() {
    return this.#json('context');
  }

  /** The `filter` attribute (JSON: `{"inStock": true, "maxPrice": 20}`): which items the slot may show. */
  get filter() {
    return this.#json('filter');
  }

  /** The `promotion` attribute (JSON: `{"name": "clearance", "percent": 25, "filter": {…}}`): places of a list kept for it. */
  get promotion() {
    return this.#json('promotion');
  }

  #json(name) {
    const text = this.getAttribute(name);
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return { '': `the ${name} attribute is not JSON` }; // refused by the engine with a coded error
    }
  }

  get k() {
    const k = Number(this.getAttribute('k') ?? 4);
    return Number.isInteger(k) && k > 0 ? Math.min(k, 50) : 4;
  }

  /** Show `items` (with `decision` for an offer) in the store's markup. */
  show(items, decision = null) {
    this.result = { items, decision };
    const heading = this.querySelector(':scope > [data-field="heading"]');
    if (heading && decision?.offer?.message) heading.textContent = decision.offer.message;
    // A set offer's price for the set, before and after its discount.
    const total = this.querySelector(':scope > [data-field="offer-price"]');
    const set = decision?.offer?.bundle;
    if (total) {
      total.hidden = !set;
      total.textContent = set ? `Together ${price(set.discountedPrice)}${set.discountPercent ? ` (${price(set.totalPrice)} apart)` : ''}` : '';
    }
    // An action (join the club, see the size guide): the store's link or button for it.
    const action = decision?.offer?.action;
    const cta = this.querySelector(':scope > [data-field="action"]');
    if (cta) {
      cta.hidden = !action;
      cta.textContent = action ? (typeof action.payload?.cta === 'string' ? action.payload.cta : action.title) : '';
      if (action?.url && cta instanceof HTMLAnchorElement) cta.href = action.url;
    }
    const template = this.querySelector(':scope > template');
    let list = this.querySelector(':scope > [data-edgerec-items]');
    if (!list) {
      list = document.createElement(template ? 'div' : 'ul');
      list.dataset.edgerecItems = '';
      this.append(list);
    }
    list.replaceChildren(...items.map((item) => renderItem(this, item)));
    this.dataset.state = items.length || action ? 'ready' : 'empty';
    this.dispatchEvent(new CustomEvent('edgerec-render', { detail: this.result, bubbles: true }));
    if (decision?.offer) this.#countWhenSeen();
  }

  fail(err) {
    this.dataset.state = 'error';
    this.dataset.error = err.code ?? 'ERROR';
  }

  /** An offer's impression counts once it is on screen, and only then. */
  #countWhenSeen() {
    this.#seen?.disconnect();
    const { decision } = this.result;
    this.#seen = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      this.#seen.disconnect();
      ready.then((rec) => rec.shown(decision)).catch(() => {});
    });
    this.#seen.observe(this);
  }

  /** A click on one of the offer's items is its take. */
  offerClicked() {
    const d = this.result?.decision;
    if (d?.offer) ready.then((rec) => rec.feedback({ slot: d.slot, offer: d.offer.id, outcome: 'click' })).catch(() => {});
  }
}

let queued = new Set();
function schedule(slot) {
  queued.add(slot);
  if (queued.size === 1) queueMicrotask(() => ready.then(flush, (err) => { for (const s of queued) s.fail(err); queued = new Set(); }));
}

function refillAll() {
  for (const slot of document.querySelectorAll('edgerec-slot')) schedule(slot);
}

/**
 * Fill every queued slot: the offers first, then one page() per item on
 * screen for its lists, leaving out what any other slot of the page shows.
 */
async function flush(rec) {
  const slots = [...queued].filter((s) => s.isConnected);
  queued = new Set();
  const others = [...document.querySelectorAll('edgerec-slot')].filter((s) => !slots.includes(s));
  const exclude = others.flatMap((s) => s.result?.items.map((it) => it.item) ?? []);
  let setOffered = others.some((s) => s.result?.decision?.offer?.bundle);
  for (const s of slots.filter((g) => g.hasAttribute('offer'))) {
    try {
      const d = await rec.nextBestOffer({ slot: s.getAttribute('offer'), anchor: s.getAttribute('item') || undefined, context: s.context, filter: s.filter });
      const items = toAdd(d.offer?.items, d.offer?.reasons);
      // An offer of items another offer already shows is not shown again (nor counted).
      if (items.some((it) => exclude.includes(it.item))) {
        s.show([]);
        continue;
      }
      exclude.push(...items.map((it) => it.item));
      setOffered ||= Boolean(d.offer?.bundle);
      s.show(items, d);
    } catch (err) {
      s.fail(err);
    }
  }
  // One page() per item on screen and filter: slots that share both share the call.
  const byRequest = new Map();
  for (const s of slots.filter((g) => LISTS.includes(g.getAttribute('list')))) {
    const key = JSON.stringify([s.getAttribute('item') || '', s.getAttribute('filter') || '', s.getAttribute('promotion') || '']);
    byRequest.set(key, [...(byRequest.get(key) ?? []), s]);
  }
  for (const lists of byRequest.values()) {
    const anchor = lists[0].getAttribute('item') || '';
    const { filter, promotion } = lists[0];
    // One set a page: none beside a set offer.
    const wanted = [...new Set(lists.map((s) => s.getAttribute('list')))].filter((l) => !(setOffered && l === 'completeTheSet'));
    const k = Math.max(...lists.map((s) => s.k));
    try {
      const page = wanted.length ? await rec.page({ anchor: anchor || undefined, k, slots: wanted, exclude, filter, promotion }) : {};
      for (const s of lists) {
        const list = s.getAttribute('list');
        const set = page.completeTheSet?.[0];
        const items = list === 'completeTheSet' ? toAdd(set?.items, set?.reasons) : page[list] ?? [];
        s.show(items.slice(0, s.k));
        exclude.push(...items.map((it) => it.item));
      }
    } catch (err) {
      for (const s of lists) s.fail(err);
    }
  }
}

// Shopper events from the store's own markup.
document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const tracked = target?.closest('[data-edgerec-track]');
  if (tracked?.dataset.edgerecItem) track(tracked.dataset.edgerecTrack, tracked.dataset.edgerecItem).catch(() => {});
  target?.closest('edgerec-slot[offer]')?.offerClicked();
});

function trackViews() {
  for (const el of document.querySelectorAll('[data-edgerec-view]')) {
    const item = el.dataset.edgerecView;
    // A reload of the page last viewed is not a new view.
    if (events.findLast((e) => e.type === 'view')?.item !== item) track('view', item).catch(() => {});
  }
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', trackViews, { once: true });
else trackViews();

if (!customElements.get('edgerec-slot')) customElements.define('edgerec-slot', EdgerecSlot);
globalThis.edgerec = { ready, track };
