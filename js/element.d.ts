// Types of `edgerec/element`: the script-tag entry (a browser module that
// defines <edgerec-slot> and tracks shopper events from data attributes).
import type { Decision, EventType, ItemFilter, OfferedItem, Promotion, Reason, Recommendation } from '../index.js';
import type { Recommender } from './worker.js';

/** An item a slot shows: a list's recommendation, or an offer's item with the offer's reasons. */
export type SlotItem = Recommendation | (OfferedItem & { reasons: Reason[] });

/** The worker Recommender, once the bundle named by the script tag has loaded. */
export declare const ready: Promise<Recommender>;
/** Record a shopper event, keep it for the next page, and refill the slots. */
export declare function track(type: EventType, item: string): Promise<boolean>;

export declare class EdgerecSlot extends HTMLElement {
  /** What the slot shows, once filled: items with reasons, and the decision behind an offer. */
  result: { items: SlotItem[]; decision: Decision | null } | null;
  readonly k: number;
  /** The `context` attribute parsed (JSON), sent with an offer slot's request. */
  readonly context: Record<string, string | number | boolean> | undefined;
  /** The `filter` attribute parsed (JSON): which items the slot may show (lists and offers). */
  readonly filter: ItemFilter | undefined;
  /** The `promotion` attribute parsed (JSON): places of a list kept for a promotion's items. */
  readonly promotion: Promotion | undefined;
  show(items: SlotItem[], decision?: Decision | null): void;
  fail(error: Error & { code?: string }): void;
  offerClicked(): void;
}


declare global {
  interface HTMLElementTagNameMap {
    'edgerec-slot': EdgerecSlot;
  }
  interface HTMLElementEventMap {
    'edgerec-render': CustomEvent<{ items: SlotItem[]; decision: Decision | null }>;
  }
  var edgerec: { ready: Promise<Recommender>; track: (type: EventType, item: string) => Promise<boolean> };
}
