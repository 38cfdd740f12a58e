// Types of `edgerec/prio3` (issue 21): the Prio3 module itself, for the two
// aggregators (and for a host that seals outside the Recommender).
export interface Prio3Module {
  /** An engine measurement (previewReport() under 'prio3') sharded and sealed: the upload's JSON. */
  sealReport(measuredJson: string, leaderConfigJson: string, helperConfigJson: string): string;
  /** Throws INVALID_OPTIONS unless it is a usable HPKE config. */
  checkConfig(configJson: string): void;
  /** A new HPKE keypair: { config: { id, publicKey }, privateKey }, as JSON. */
  generateKeypair(id: number): string;
  /** A task's id (sha256: of its JSON), after checking it. */
  taskId(taskJson: string): string;
  /** DAP's batch checksum after adding `idsJson`'s report ids to `previous`. */
  batchChecksum(previous: string, idsJson: string): string;
  /** The released aggregates JSON of one batch, from the two noised aggregate shares. */
  collectBatch(taskJson: string, leader: Uint8Array, helper: Uint8Array, day: string, model: string, reports: number): string;
  Prio3Aggregator: new (taskJson: string, role: 'leader' | 'helper', verifyKeyHex: string, keysJson: string) => Prio3Aggregator;
}

export interface Prio3Aggregator {
  taskId(): string;
  hpkeConfig(): string;
  open(uploadJson: string): string;
  start(id: string, publicB64: string, shareB64: string): string;
  help(requestJson: string): string;
  finish(id: string, message: string): string | undefined;
  forget(id: string): void;
  merge(stored: Uint8Array | undefined, idsJson: string): Uint8Array;
  noised(stored: Uint8Array | undefined): Uint8Array;
  free(): void;
}

/** Loads (once) and returns the Prio3 module; in browsers it is fetched then. */
export declare function loadPrio3(options?: { wasm?: string | URL }): Promise<Prio3Module>;
