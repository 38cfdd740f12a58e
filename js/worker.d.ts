// Types of `edgerec/worker`: the Recommender of `edgerec`, run in a Web
// Worker. Every method and getter returns a Promise of the same value.
import type {
  BundleInfo, BundleSource, CartPrice, Decision, EventType, HpkeConfig, LoadOptions, OfferFeedback, OfferRequest, Page, PageOptions,
  Prio3Task, PrivacyStatus, Recommendations, RecommendOptions, ReleasedAggregates, TrackEvent, CatalogItem, CatalogPatch, ItemUpdate, ItemsUpdated,
} from '../index.js';

export * from '../index.js';

export interface WorkerLoadOptions extends Omit<LoadOptions, 'clock'> {}

export declare class Recommender {
  private constructor();
  /** Start a module worker and load the bundle in it (MODULE_LOAD where Workers do not exist). */
  static load(source: BundleSource, options?: WorkerLoadOptions): Promise<Recommender>;
  track(event: TrackEvent): Promise<boolean>;
  track(type: EventType, item: string): Promise<boolean>;
  restore(events: TrackEvent[]): Promise<number>;
  nextBestOffer(request: OfferRequest): Promise<Decision>;
  shown(decision: Decision | number): Promise<boolean>;
  priceCart(options?: { lines?: { item: string; quantity?: number }[] }): Promise<CartPrice>;
  feedback(event: OfferFeedback): Promise<void>;
  loadAggregates(aggregates: ReleasedAggregates | string): Promise<number>;
  setConsent(consent: boolean): Promise<void>;
  readonly consent: Promise<boolean>;
  privacy(): Promise<PrivacyStatus>;
  previewReport(): Promise<string | null>;
  takeReport(): Promise<string | null>;
  takeSealedReport(configs: { leader: HpkeConfig; helper: HpkeConfig }): Promise<string | null>;
  prio3Task(): Promise<Prio3Task>;
  sendReports(url: string, options?: { keepalive?: boolean; helper?: string }): Promise<{ sent: number; waiting: number }>;
  updateItems(items: ItemUpdate[]): Promise<ItemsUpdated>;
  applyPatch(patch: string | CatalogPatch): Promise<ItemsUpdated>;
  usePolicy(policy: Record<string, unknown> | string): Promise<string>;
  loadPriors(priors: Record<string, { shown: number; taken: number }>): Promise<number>;
  exportState(): Promise<string>;
  importState(state: string): Promise<void>;
  readonly policyId: Promise<string>;
  recommend(options?: RecommendOptions): Promise<Recommendations>;
  page(options?: PageOptions): Promise<Page>;
  catalog(): Promise<CatalogItem[]>;
  reset(): Promise<void>;
  /** Known since load, so not a Promise. */
  readonly info: BundleInfo;
  readonly policy: Promise<Record<string, unknown>>;
  /** Ends the worker; later calls reject with INVALID_STATE. */
  free(): Promise<void>;
}
