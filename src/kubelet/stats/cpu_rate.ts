// usageNanoCores from cumulative CPU time: the rate between the last two samples a caller took,
// as cAdvisor derives it from its housekeeping samples. Samples closer than minIntervalMs reuse
// the last rate rather than divide by a tiny window; keys not sampled in a round are forgotten.

interface Sample {
  readonly time: number;
  readonly cumulative: number;
  rate?: number;
  seen: boolean;
}

/** Per-key CPU rate tracker (a key per node, pod and container). */
export class CpuRates {
  readonly #minIntervalMs: number;
  readonly #samples = new Map<string, Sample>();

  constructor(minIntervalMs = 1000) {
    this.#minIntervalMs = minIntervalMs;
  }

  /** Records a cumulative sample (ns of CPU time at `time` ms) and returns the rate in nanocores, if known. */
  observe(key: string, time: number, cumulative: number): number | undefined {
    const last = this.#samples.get(key);
    if (last && last.cumulative <= cumulative && time >= last.time) {
      last.seen = true;
      if (time - last.time < this.#minIntervalMs) return last.rate;
      const rate = Math.round(((cumulative - last.cumulative) / (time - last.time)) * 1000);
      this.#samples.set(key, { time, cumulative, rate, seen: true });
      return rate;
    }
    // first sight, or the counter went back (a restart): start over
    this.#samples.set(key, { time, cumulative, seen: true });
    return undefined;
  }

  /** Forgets keys not observed since the previous sweep. */
  sweep(): void {
    for (const [key, s] of this.#samples) {
      if (!s.seen) this.#samples.delete(key);
      else s.seen = false;
    }
  }

  get size(): number {
    return this.#samples.size;
  }
}
