// Types of the edgerec package (hand-written; the engine's JSON shapes).

export type EventType = 'view' | 'add_to_cart' | 'remove_from_cart' | 'purchase';

export interface TrackEvent {
  type: EventType;
  /** The store's item id (stock code), as in the bundle's catalog. */
  item: string;
}

export interface RecommendOptions {
  /** How many items, 1..=200 (default 10). */
  k?: number;
  /** Recommend around this item (a product page), on top of the session. */
  anchor?: string;
  /** Item ids never to return. */
  exclude?: string[];
  /** Also rank items viewed in this session ("back to it" lists; the offline protocol); the cart and purchases stay out. */
  includeViewed?: boolean;
  /** Which items the list may hold: a category page, a price range, in stock only… */
  filter?: ItemFilter;
  /** Places kept for a promotion's items (page(): in the "recommended" slot). */
  promotion?: Promotion;
}

/**
 * A promotion, as Amazon Personalize's: `percent` of a list's places (rounded up, at least one)
 * go to the best-ranked items its filter allows, within the call's own filter. They appear among
 * the others in score order, the i-th of n no later than place (i + 1)·k / (n + 1), each with
 * `promotion: name` and a first reason "Featured by the store"; fewer when fewer items match.
 * A bad value is INVALID_OPTIONS naming `promotion.<field>`.
 */
export interface Promotion {
  /** The store's name for it, 1..=63 characters. */
  name: string;
  /** 1..=100. */
  percent: number;
  filter: ItemFilter;
}

/**
 * Which items a call may show: an item passes when it is in every inclusive list given (ids,
 * categories, brands), in none of the exclusive ones, within the price range and of the stock
 * state given. Categories and brands the catalog does not hold yet match nothing (no error);
 * brands are those updateItems gave. Lists hold at most 10,000 entries; a bad value is
 * INVALID_OPTIONS naming `filter.<field>`.
 */
export interface ItemFilter {
  ids?: string[];
  categories?: string[];
  brands?: string[];
  excludeIds?: string[];
  excludeCategories?: string[];
  excludeBrands?: string[];
  minPrice?: number;
  maxPrice?: number;
  inStock?: boolean;
}

/**
 * The parts of every score (a ranked item, an offer, a set), each 0..1; the score is the
 * weights (the blend, or the offer's) over them, and a part a list or offer kind does not use is 0.
 */
export interface ScoreParts {
  /** The session model's probability of the item next (a softmax over its top 50), or the
   * embedding cosine with the focus item for substitutes (similar, upsell). */
  model: number;
  /** Ranking: the strongest co-purchase confidence with an anchor item, weighted by the anchor. */
  copurchase: number;
  /** Offers: the strongest co-purchase lift with an anchor, as 1 − 1/lift. */
  lift: number;
  margin: number;
  /** Upsell: price over the focus item's, minus 1, capped at 1. */
  priceStep: number;
  /** Popularity relative to the most popular item. */
  popularity: number;
  /** Ranking, in lists that may show viewed items: 1 for the latest view, 0.7 times less for each before it. */
  revisit: number;
  /** The offer's released take rate relative to the best offer's (loadAggregates). */
  taken: number;
}

/** An item as the shopper sees it: the one view every list, set and offer shows. */
export interface ItemView {
  item: string;
  title: string;
  price: number;
  category: string;
  inStock: boolean;
  /** The regular price, where the item is on sale below it (`price`): from updateItems. */
  regularPrice?: number;
  /** From updateItems, where the host gave them. */
  url?: string;
  image?: string;
}

/**
 * An item as the store knows it now (updateItems): absent fields keep what the engine has; an
 * item the catalog lacks is added (it then needs `title` and `price`) and placed in the model's
 * space from its words beside the items it reads like, unless `row` (from `edgerec patch`) is given.
 */
export interface ItemUpdate {
  id: string;
  /** The regular price; given without salePrice, what the shopper pays. */
  price?: number;
  /** What the shopper pays now, at or below the regular price. */
  salePrice?: number;
  inStock?: boolean;
  /** Gross margin as a fraction of the price, 0..1. */
  margin?: number;
  title?: string;
  category?: string;
  brand?: string;
  url?: string;
  image?: string;
  /** The item's row in the model's space (`edgerec patch` writes it); the model's dimension. */
  row?: number[];
}

/** A catalog patch as `edgerec patch` writes it: the item updates for one bundle. */
export interface CatalogPatch {
  format: 'edgerec-patch/1';
  /** The version (`sha256:` of its bytes) of the bundle it was made for. */
  bundle: string;
  /** Rows come as int8 codes: { scale, codes (base64) }. */
  items: (Omit<ItemUpdate, 'row'> & { row?: number[] | { scale: number; codes: string } })[];
}

/** What one updateItems call did. */
export interface ItemsUpdated {
  changed: number;
  added: number;
  /** Of the added items, those placed from their words (no row given). */
  placedFromContent: number;
}

export interface Reason {
  code: 'copurchase' | 'session' | 'popular' | 'viewed' | 'similar' | 'bundle' | 'upsell' | 'cross-sell' | 'store' | 'margin' | 'action' | 'promoted';
  /** For the shopper, in plain words: "Often bought together with the Jumbo Bag Red Retrospot". */
  text: string;
  /** For the store's debug view: the figures behind it ("in 38% of the orders holding it, lift 6.1"). */
  detail?: string;
}

export interface Recommendation extends ItemView {
  score: number;
  parts: ScoreParts;
  reasons: Reason[];
  /** The name of the promotion that kept this item's place. */
  promotion?: string;
}

export interface Recommendations {
  items: Recommendation[];
  stats: {
    /** Unknown item ids skipped, in the session and in this request. */
    unknownItems: number;
    sessionLength: number;
    /** Whether the session encoder ran (false on a cold start). */
    encoded: boolean;
  };
}

export type Slot = 'recommended' | 'similar' | 'boughtTogether' | 'completeTheSet';

/** A page's options: those of `recommend` but `includeViewed` (a page leaves viewed items to "recommended"'s own rule). */
export interface PageOptions extends Omit<RecommendOptions, 'includeViewed'> {
  /** Slots to fill; all of them when absent. */
  slots?: Slot[];
  /** "Similar items" of any kind; by default those of the item's own category come first (others only fill). */
  similarAnyKind?: boolean;
}

/** An item of a set or an offer. */
export interface OfferedItem extends ItemView {
  /** False for the item in focus a set is built around (on screen or in the cart). */
  add: boolean;
}

export interface ItemBundle {
  items: OfferedItem[];
  totalPrice: number;
  /** Mean pairwise co-purchase confidence of the members. */
  score: number;
  reasons: Reason[];
}

/** Slots not asked for are absent. */
export interface Page {
  recommended?: Recommendation[];
  similar?: Recommendation[];
  boughtTogether?: Recommendation[];
  completeTheSet?: ItemBundle[];
  stats: Recommendations['stats'];
}

export type OfferKind = 'item' | 'bundle' | 'crossSell' | 'upsell' | 'completeTheSet' | 'action' | 'fillTheGap';

/**
 * What the host says about the request, in the fields the policy declares
 * (its `context`); an undeclared field or a value of the wrong type is an
 * INVALID_REQUEST naming the field. The default policy declares `channel`
 * ('web' | 'app' | 'email' | 'push' | 'agent'), `device` ('mobile' |
 * 'tablet' | 'desktop'), `locale` and `loggedIn`.
 */
export type OfferContext = Record<string, string | number | boolean>;

export interface OfferRequest {
  /** A slot id of the active policy (the default policy: 'product', 'cart', 'post-purchase', 'message', 'service'). */
  slot: string;
  /** The product on screen; else the cart's last item, else the last viewed. */
  anchor?: string;
  /** The shopper's segment flags, for `segment` predicates. */
  segments?: string[];
  /** The host's context: `context` predicates read it, `channel` caps count by its `channel`. */
  context?: OfferContext;
  /** Item ids the offer must not show (what the page's lists already show). */
  exclude?: string[];
  /** Which items the offer may show; an item or set offer naming an item it leaves out is not eligible. */
  filter?: ItemFilter;
}

/** An action's content, as the policy wrote it. */
export interface ActionContent {
  title: string;
  url?: string;
  /** Whatever the page needs to render the action, passed through as is. */
  payload?: unknown;
}

/** How a `fillTheGap` offer takes the cart over its threshold (catalog currency). */
export interface GapFill {
  threshold: number;
  cartValue: number;
  /** What the cart lacked before the offered items. */
  gap: number;
  /** How far past the threshold the items take it. */
  overshoot: number;
}


export interface ChosenOffer {
  id: string;
  kind: OfferKind;
  message?: string;
  items: OfferedItem[];
  /** Bundles: the price of the items to add, before and after the discount. */
  bundle?: { totalPrice: number; discountedPrice: number; discountPercent: number };
  score: number;
  parts: ScoreParts;
  reasons: Reason[];
  /** Actions (`kind: 'action'`): their title, link and payload; they offer no items. */
  action?: ActionContent;
  /** `fillTheGap`: the threshold, the cart and the gap; `message` names the gap ("Add £3.20 for free delivery"). */
  gap?: GapFill;
  /** P(take) from the released aggregates, shrunk toward the slot's rate (0.05 before any). */
  pTake: number;
  /** What one take is worth to the store: an action's value, else its items' price × margin. */
  value: number;
  /** pTake × value: arbitration's order after priority. */
  expectedValue: number;
}

export interface CapCheck {
  cap: 'perSession' | 'perDay' | 'perWeek' | 'afterDismissals' | 'afterPurchaseDays';
  /** A channel cap: the channel whose impressions it counts. */
  channel?: string;
  /** Impressions or dismissals in the window; days since the purchase (null: never). */
  count: number | null;
  limit: number;
  passed: boolean;
}

export interface OfferTrace {
  offer: string;
  verdict: 'chosen' | 'outranked' | 'ineligible' | 'capped' | 'noCandidates';
  fallback: boolean;
  priority: number;
  rules: { rule: string; passed: boolean; detail?: string }[];
  /** Candidates passed over for a failed rule or for diversity. */
  rejected: number;
  caps: CapCheck[];
  score?: number;
  parts?: ScoreParts;
  /** The Thompson draw of P(take), in a bandit arm (weighed times the value). */
  sample?: number;
  /** Offers that got as far as a proposal: P(take), value and their product. */
  pTake?: number;
  value?: number;
  expectedValue?: number;
}

export interface Decision {
  /** The engine's id for this decision: pass the decision to shown() once it is on screen. */
  id: number;
  policy: string;
  slot: string;
  offer: ChosenOffer | null;
  fallback: boolean;
  arm: { experiment: string; arm: string; holdout: boolean; bandit: boolean } | null;
  slotCaps: CapCheck[];
  trace: OfferTrace[];
}

/** A cart priced as checkout should charge it; amounts rounded to the cent. */
export interface CartPrice {
  lines: { item: string; title: string; quantity: number; unitPrice: number; total: number }[];
  subtotal: number;
  /** Set discounts kept: an offer showed them, and the cart holds the whole set. */
  discounts: {
    offer: string;
    message?: string;
    /** Every item of the set, the one it was built around first. */
    items: string[];
    /** The items the percentage is taken off. */
    discounted: string[];
    percent: number;
    /** How many whole sets the cart holds. */
    sets: number;
    amount: number;
  }[];
  total: number;
}

export interface OfferFeedback {
  slot: string;
  offer: string;
  outcome: 'click' | 'dismiss' | 'purchase';
}

/** localStorage-like storage for the shopper's decisioning state. */
export interface StateStorage {
  /** A value that is not a string is read as unreadable state (stateError INVALID_STATE) or as no last good release. */
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem?(key: string): void;
}

/** The store's privacy settings for aggregate reports (defaults 1, 1, local). */
export interface ReportingOptions {
  /** ε of one report, 0.01..=10, at most epsilonPerDay. */
  epsilon?: number;
  /** ε a device spends per day at most. */
  epsilonPerDay?: number;
  /**
   * 'local': every report carries all the noise (private even from the collector).
   * 'distributed': every report carries a share; only sums of a cohort are private,
   * so the collector must be trusted to keep sums only. Far more accurate.
   * 'prio3': the counts leave only as two secret shares with a range proof, for a leader
   * and a helper aggregator run by different parties; each adds a full noise draw. Trusts
   * only that the two do not collude (docs/privacy.md, "Prio3").
   */
  mechanism?: 'local' | 'distributed' | 'prio3';
  /** Distributed only (2..=10,000,000): the reports the store expects a day; set it a little low. */
  cohort?: number;
}

/** An aggregator's HPKE config, as its GET /v1/hpke_config answers. */
export interface HpkeConfig {
  id: number;
  /** X25519 public key, 32 bytes of hex. */
  publicKey: string;
}

/** What both Prio3 aggregators are provisioned with (its id: the SHA-256 of its JSON). */
export interface Prio3Task {
  version: number;
  policy: string;
  epsilon: number;
  cells: { experiment: string | null; arm: string | null; slot: string; offer: string }[];
  visits: { experiment: string; arm: string }[];
}

export interface PrivacyStatus {
  consent: boolean;
  epsilonPerDay: number;
  epsilonPerReport: number;
  /** 'local': each report is private even from the collector; 'distributed': only sums are; 'prio3': shares for two aggregators. */
  mechanism: 'local' | 'distributed' | 'prio3';
  spentToday: number;
  pendingDays: number;
  /** Why takeReport() would return null now; null when it would report. */
  withheld: 'noConsent' | 'nothingPending' | 'budgetSpent' | null;
}

/** A noisy sum over reports and the variance of its noise (collector output). */
export interface Estimate {
  sum: number;
  variance: number;
}

/** GET /v1/aggregates of the collector (edge/cloudflare/src/collector.mjs). */
export interface ReleasedAggregates {
  store?: string;
  policy: string;
  k: number;
  cells: Array<{
    day: string; experiment: string | null; arm: string | null; slot: string; offer: string; reports: number;
    /** 'discrete-laplace' or 'distributed-discrete-laplace/ε'; cohort 1 under local noise. */
    mechanism?: string; cohort?: number;
    impressions: Estimate; clicks: Estimate; addToCarts: Estimate; purchases: Estimate; revenue: Estimate;
  }>;
  visits: Array<{
    day: string; experiment: string; arm: string; reports: number; mechanism?: string; cohort?: number;
    exposed: Estimate; converted: Estimate; orders: Estimate; revenue: Estimate;
  }>;
  withheld?: { cells: number; visits: number };
}

export interface LoadOptions {
  /**
   * Host time in ms (default Date.now); inject one in tests. A reading that is not a finite
   * number or lies outside the years 0 to 9999 (-62167219200000 to 253402300799999) makes the
   * call fail with INVALID_OPTIONS and change nothing.
   */
  clock?: () => number;
  /** Where caps and bandit state persist (default: the browser's localStorage; none elsewhere). */
  storage?: StateStorage | null;
  storageKey?: string;
  /** Stable pseudonymous shopper key for experiment arms (default: stored, else random); not a string: INVALID_OPTIONS. */
  shopperKey?: string;
  /** A store's own offer policy (see schema/policy.schema.json). */
  policy?: Record<string, unknown> | string;
  /** The shopper's choice about aggregate reports (default: the stored one, else off). */
  consent?: boolean;
  reporting?: ReportingOptions;
  /** Browsers: where the .wasm is (e.g. its content-hashed CDN URL); default next to the script. */
  wasm?: string | URL;
}

/** `Recommender.load({ release, shopperKey, ... })`: the bundle comes from the store's release file. */
export interface ReleaseLoadOptions extends LoadOptions {
  /** The release file (schema/release.schema.json); bundle URLs in it are relative to it. */
  release: string | URL;
}

/** The shopper's place in the store's model release. */
export interface ReleasePlacement {
  experiment: string;
  /** The side the shopper is drawn into (stable per shopper and experiment). */
  side: 'current' | 'candidate';
  /** The share of shoppers on that side. */
  share: number;
  bundle: { url: string; version: string; dim: number; catalog: string };
  /** The side whose bundle is loaded, which the shopper's reports count for. */
  loaded: 'current' | 'candidate';
  /** Set when the hash drew the shopper into the candidate but its bundle failed (see releaseError): they see, and count as, the current side. */
  placed?: 'candidate';
}

export type CatalogItem = ItemView;

export interface ModelCard {
  dataset: string;
  trained_at: string;
  command: string;
  metrics: Record<string, number>;
  notes: string;
}

export interface BundleInfo {
  /** The bundle's version id: "sha256:" and the SHA-256 of its bytes. */
  version: string;
  formatVersion: number;
  itemCount: number;
  dim: number;
  maxSeqLen: number;
  modelCard: ModelCard;
  /** The bundle's own ranking blend (tuned by `edgerec tune`); a policy's `ranking` overrides it. */
  blend: BlendWeights;
  /** With a release file: the shopper's placement; null otherwise. */
  release: ReleasePlacement | null;
}

/** The weights of the recommend() and page() lists' blend. */
export interface BlendWeights {
  model: number;
  copurchase: number;
  popularity: number;
  /** How much each earlier view counts as a co-purchase anchor against the view after it, 0..1. */
  recency: number;
  /** The weight of an item viewed this session, where a list may show viewed items (ScoreParts.revisit). */
  revisit: number;
}

/** Errors thrown by edgerec carry one of these codes. */
export type ErrorCode =
  | 'BUNDLE_CORRUPT'
  | 'BUNDLE_VERSION'
  /**
   * A bundle that breaks the format's rules, or one the engine failed on inside
   * WebAssembly while reading it (a trap, a stack overflow): the instance was restarted (live
   * recommenders rebuild on the fresh one) and nothing was loaded.
   */
  | 'BUNDLE_INVALID'
  | 'BUNDLE_CHECKSUM'
  | 'BUNDLE_FETCH'
  | 'MODULE_LOAD'
  | 'MODEL_CONTRACT'
  | 'MODEL_RUN'
  | 'INVALID_EVENT'
  | 'INVALID_OPTIONS'
  | 'INVALID_INPUT'
  | 'UNKNOWN_ITEM'
  /** An item update that cannot be applied (updateItems), naming the item and the field: nothing of the call was applied. */
  | 'INVALID_ITEM'
  /** A catalog patch made for another bundle (applyPatch). */
  | 'PATCH_MISMATCH'
  | 'INVALID_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_POLICY'
  | 'INVALID_STATE'
  | 'UNKNOWN_POLICY'
  | 'TRACE_EXPIRED'
  | 'DECISION_EXPIRED'
  /** A release file is malformed or contradicts itself. */
  | 'INVALID_RELEASE'
  /** A bundle (or aggregates) is not the one the release names: another version, catalog or dimension. */
  | 'RELEASE_MISMATCH'
  /** The release file could not be fetched. */
  | 'RELEASE_FETCH'
  /** An answer the engine could not write out: a bug in edgerec, never the caller's input (report it). */
  | 'INTERNAL'
  /** A call trapped inside WebAssembly: the engine was restarted from the bundle and saved state, retry. */
  | 'ENGINE_RESTARTED'
  /** In handleRequest()'s HTTP answers only: no such route (404), the wrong method (405). */
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED';

export interface EdgerecError extends Error {
  code: ErrorCode;
}

/** An Error carrying `code`, as edgerec throws them (for hosts that wrap the engine). */
export declare function edgerecError(code: ErrorCode, message: string): EdgerecError;

/** Largest request body handleRequest reads. */
export declare const MAX_BODY_BYTES: number;

export type BundleSource = Uint8Array | ArrayBuffer | ArrayBufferView | Response | URL | string;

export declare class Recommender {
  private constructor();
  /** Load and validate a bundle (bytes, a Response, or a URL; in Node also a file path). */
  static load(source: BundleSource, options?: LoadOptions): Promise<Recommender>;
  /** Load the bundle the store's release file gives this shopper (see ReleaseLoadOptions). */
  static load(options: ReleaseLoadOptions): Promise<Recommender>;
  /** Where a release file (JSON text or object) places this shopper key; for servers that place each request. */
  static placeShopper(
    release: string | object,
    shopperKey: string,
    options?: { wasm?: LoadOptions['wasm'] },
  ): Promise<{
    placement: Omit<ReleasePlacement, 'loaded' | 'placed'>;
    current: ReleasePlacement['bundle'];
    /** The placement to join when the placement's bundle fails: the current side. */
    fallback: Omit<ReleasePlacement, 'loaded' | 'placed'>;
  }>;
  /** Count as this side of the release from now on; the loaded bundle must be the one the placement names (RELEASE_MISMATCH). */
  joinRelease(placement: Omit<ReleasePlacement, 'loaded' | 'placed'>): void;
  /** Returns false when the item is not in the catalog (skipped and counted). */
  track(event: TrackEvent): boolean;
  track(type: EventType, item: string): boolean;
  /** Replay a stored session after a reload; returns how many events were replayed. */
  restore(events: TrackEvent[]): number;
  /**
   * One offer (or the fallback, or none) for a slot, with its decision trace.
   * The trace is fetched from the engine when first read; read it within the
   * next 64 decisions (later reads throw TRACE_EXPIRED).
   */
  nextBestOffer(request: OfferRequest): Decision;
  /**
   * The decision is on the shopper's screen: its impression counts (caps,
   * bandit, reports) once per page view; again, or a re-render with the same
   * offer, counts nothing. Returns whether an impression was counted.
   */
  shown(decision: Decision | number): boolean;
  /** The cart (default: the session's) priced with the set discounts the shopper was shown. */
  priceCart(options?: { lines?: { item: string; quantity?: number }[] }): CartPrice;
  feedback(event: OfferFeedback): void;
  /** Bandit priors from the collector's released aggregates; returns the offers seeded. */
  loadAggregates(aggregates: ReleasedAggregates | string): number;
  /** Opt in or out of aggregate reports; opting out erases pending counts and unsent reports. */
  setConsent(consent: boolean): void;
  readonly consent: boolean;
  privacy(): PrivacyStatus;
  /** The exact text takeReport() would return now, without taking it (under 'prio3': the measurement its shares hide). */
  previewReport(): string | null;
  /** The next differentially private report (JSON text), its ε spent; null if none. Under 'prio3': throws INVALID_REQUEST. */
  takeReport(): string | null;
  /** Under 'prio3': the next report as an upload for the leader, its two shares sealed to these configs; null if none. */
  takeSealedReport(configs: { leader: HpkeConfig; helper: HpkeConfig }): Promise<string | null>;
  /** The Prio3 task this device's reports fill: what the store provisions both aggregators with. */
  prio3Task(): Prio3Task;
  /**
   * POST every report to the collector (under 'prio3': to the leader's /v1/reports, sealed just
   * before each try with both aggregators' current configs; `helper` is the helper's base URL);
   * failures wait in storage for the next call.
   */
  sendReports(url: string, options?: { fetch?: typeof fetch; keepalive?: boolean; helper?: string }): Promise<{ sent: number; waiting: number }>;
  /**
   * The store's items as they are now: prices, sales, stock, titles, and items the bundle lacks
   * (added, recommended from their words). Every later answer ranks, offers and prices with them;
   * INVALID_ITEM names the item and field of a refused update, and then nothing is applied.
   */
  updateItems(items: ItemUpdate[]): ItemsUpdated;
  /**
   * A catalog patch written by `edgerec patch` (JSON text or the parsed object), applied as
   * updateItems applies its items; PATCH_MISMATCH when it was made for another bundle.
   */
  applyPatch(patch: string | CatalogPatch): ItemsUpdated;
  /** Check a policy and make it the active one; throws INVALID_POLICY naming the field. */
  usePolicy(policy: Record<string, unknown> | string): string;
  /** Bandit priors from aggregates: { offerId: { shown, taken } }. */
  loadPriors(priors: Record<string, { shown: number; taken: number }>): number;
  exportState(): string;
  importState(state: string): void;
  readonly policyId: string;
  /** Set when stored state could not be read (INVALID_STATE: not text, or text the engine refuses) and the engine started afresh. */
  stateError?: EdgerecError;
  /**
   * Set when the release file or the candidate could not be used (whatever the candidate did,
   * a trap included): the last good release, the current bundle, was loaded. Always has a code.
   */
  releaseError?: EdgerecError;
  recommend(options?: RecommendOptions): Recommendations;
  /** Every slot of a page for the live session. */
  page(options?: PageOptions): Page;
  /** The bundle's catalog, most popular first. */
  catalog(): CatalogItem[];
  /** Serve POST /v1/recommend, POST /v1/offer and GET /v1/health (stateless; never throws). */
  handleRequest(request: Request): Promise<Response>;
  reset(): void;
  readonly info: BundleInfo;
  readonly policy: Record<string, unknown>;
  free(): void;
}
