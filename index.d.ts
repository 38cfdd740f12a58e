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
}

export interface ScoreParts {
  /** The session model's probability for this item (softmax over the candidates), 0..1. */
  model: number;
  /** Strongest co-purchase confidence from a session item, weighted. */
  copurchase: number;
  /** Popularity relative to the most popular item, 0..1. */
  popularity: number;
}

export interface Reason {
  code: 'copurchase' | 'session' | 'popular' | 'similar' | 'bundle' | 'upsell';
  /** Human-readable, e.g. "often bought with Jumbo Bag Red Retrospot (lift 4.1)". */
  text: string;
}

export interface Recommendation {
  item: string;
  title: string;
  price: number;
  category: string;
  score: number;
  parts: ScoreParts;
  reasons: Reason[];
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

export type Slot = 'recommended' | 'similar' | 'boughtTogether' | 'completeTheSet' | 'offer';

export interface PageOptions extends RecommendOptions {
  /** Slots to fill; all of them when absent. */
  slots?: Slot[];
}

export interface BundleItem {
  item: string;
  title: string;
  price: number;
  /** False for the seed item (on screen or in the cart). */
  add: boolean;
}

export interface ItemBundle {
  items: BundleItem[];
  totalPrice: number;
  /** Mean pairwise co-purchase confidence of the members. */
  score: number;
  reasons: Reason[];
}

export interface Offer extends Recommendation {
  kind: 'upsell' | 'cross-sell';
}

/** Slots not asked for are absent; `offer` is null on an empty session. */
export interface Page {
  recommended?: Recommendation[];
  similar?: Recommendation[];
  boughtTogether?: Recommendation[];
  completeTheSet?: ItemBundle[];
  offer?: Offer | null;
  stats: Recommendations['stats'];
}

export interface CatalogItem {
  item: string;
  title: string;
  price: number;
  category: string;
  inStock: boolean;
}

export interface ModelCard {
  dataset: string;
  trained_at: string;
  command: string;
  metrics: Record<string, number>;
  notes: string;
}

export interface BundleInfo {
  formatVersion: number;
  itemCount: number;
  dim: number;
  maxSeqLen: number;
  modelCard: ModelCard;
}

/** Errors thrown by edgerec carry one of these codes. */
export type ErrorCode =
  | 'BUNDLE_CORRUPT'
  | 'BUNDLE_VERSION'
  | 'BUNDLE_INVALID'
  | 'BUNDLE_CHECKSUM'
  | 'BUNDLE_FETCH'
  | 'MODEL_CONTRACT'
  | 'MODEL_RUN'
  | 'INVALID_EVENT'
  | 'INVALID_OPTIONS'
  | 'INVALID_INPUT'
  | 'UNKNOWN_ITEM'
  | 'INVALID_REQUEST'
  | 'PAYLOAD_TOO_LARGE';

export interface EdgerecError extends Error {
  code: ErrorCode;
}

/** Largest request body handleRequest reads. */
export declare const MAX_BODY_BYTES: number;

export type BundleSource = Uint8Array | ArrayBuffer | ArrayBufferView | Response | URL | string;

export declare class Recommender {
  private constructor();
  /** Load and validate a bundle (bytes, a Response, or a URL; in Node also a file path). */
  static load(source: BundleSource): Promise<Recommender>;
  /** Returns false when the item is not in the catalog (skipped and counted). */
  track(event: TrackEvent): boolean;
  track(type: EventType, item: string): boolean;
  recommend(options?: RecommendOptions): Recommendations;
  /** Every slot of a page for the live session. */
  page(options?: PageOptions): Page;
  /** The bundle's catalog, most popular first. */
  catalog(): CatalogItem[];
  /** Serve POST /v1/recommend and GET /v1/health (stateless; never throws). */
  handleRequest(request: Request): Promise<Response>;
  reset(): void;
  readonly info: BundleInfo;
  readonly policy: Record<string, unknown>;
  free(): void;
}
