// CycleState: the scratch space of one scheduling cycle. PreFilter/PreScore write per-pod data here
// once; Filter/Score read it for every node. Preemption clones it to simulate removing pods, so data
// a plugin mutates through PreFilterExtensions must clone deeply enough to keep the original intact.

/** Data a plugin stores in the cycle state. */
export interface StateData {
  /** A copy safe to mutate independently (immutable data may return itself). */
  clone(): StateData;
}

/** Per-cycle state keyed by plugin-chosen strings. */
export class CycleState {
  private readonly data = new Map<string, StateData>();
  /** Plugins whose PreFilter returned Skip: their Filter is not run this cycle. */
  skipFilterPlugins: ReadonlySet<string> = emptySet;
  /** Plugins whose PreScore returned Skip: their Score is not run this cycle. */
  skipScorePlugins: ReadonlySet<string> = emptySet;
  /** The framework's Filter plugins minus the skipped ones, worked out once per cycle (per framework). */
  activeFilters: { readonly owner: object; readonly plugins: readonly unknown[] } | null = null;
  /** The PreFilter extensions of the plugins not skipped, likewise (preemption calls them per pod moved). */
  activePreFilterExtensions: { readonly owner: object; readonly extensions: readonly unknown[] } | null = null;

  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }

  delete(key: string): void {
    this.data.delete(key);
  }

  /** A copy whose entries are cloned (CycleState.Clone). */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v.clone());
    c.skipFilterPlugins = this.skipFilterPlugins;
    c.skipScorePlugins = this.skipScorePlugins;
    c.activeFilters = this.activeFilters;
    c.activePreFilterExtensions = this.activePreFilterExtensions;
    return c;
  }
}

const emptySet: ReadonlySet<string> = new Set();
