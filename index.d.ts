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
  code: 'copurchase' | 'session' | 'popular';
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
  | 'INVALID_INPUT';

export interface EdgerecError extends Error {
  code: ErrorCode;
}

export type BundleSource = Uint8Array | ArrayBuffer | ArrayBufferView | Response | URL | string;

export declare class Recommender {
  private constructor();
  /** Load and validate a bundle (bytes, a Response, or a URL; in Node also a file path). */
  static load(source: BundleSource): Promise<Recommender>;
  /** Returns false when the item is not in the catalog (skipped and counted). */
  track(event: TrackEvent): boolean;
  track(type: EventType, item: string): boolean;
  recommend(options?: RecommendOptions): Recommendations;
  reset(): void;
  readonly info: BundleInfo;
  readonly policy: Record<string, unknown>;
  free(): void;
}
