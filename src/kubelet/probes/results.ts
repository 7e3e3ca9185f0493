// The cache of probe results by container ID (upstream prober/results): one per probe type, read
// by the status generator and the pod sync, telling a listener whenever a container's result changes.
import type { ProbeResult } from './types.ts';

/** A changed result. */
export interface ResultUpdate {
  readonly containerId: string;
  readonly result: ProbeResult;
  readonly podUid: string;
}

/** Results of one probe type. */
export class ResultsManager {
  readonly #results = new Map<string, ProbeResult>();
  readonly #onUpdate: (u: ResultUpdate) => void;

  constructor(onUpdate: (u: ResultUpdate) => void) {
    this.#onUpdate = onUpdate;
  }

  get(containerId: string): ProbeResult | undefined {
    return this.#results.get(containerId);
  }

  /** Records a result; a new or different one is reported. */
  set(containerId: string, result: ProbeResult, podUid: string): void {
    if (this.#results.get(containerId) === result) return;
    this.#results.set(containerId, result);
    this.#onUpdate({ containerId, result, podUid });
  }

  remove(containerId: string): void {
    this.#results.delete(containerId);
  }

  get size(): number {
    return this.#results.size;
  }
}
