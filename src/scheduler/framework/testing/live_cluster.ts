// A cache-fed snapshot for plugin tests that must see the cluster change between cycles: pods and
// nodes go through the scheduler cache and refresh() updates the snapshot the way a scheduling cycle
// does, so plugins' cross-cycle state (folds, NodeInfo memos) is exercised. For tests only.

import { Cache } from '../../cache/cache.ts';
import { Snapshot } from '../../cache/snapshot.ts';
import { Framework } from '../framework.ts';
import type { PluginFactory } from '../interface.ts';
import { MemoryListers } from '../listers.ts';
import type { Plugins } from '../profile.ts';

/** A scheduler cache and the snapshot refreshed from it, plus listers for the plugins. */
export class LiveCluster {
  readonly cache = new Cache();
  readonly snapshot = new Snapshot();
  readonly listers: MemoryListers;

  constructor(listers: MemoryListers = new MemoryListers()) {
    this.listers = listers;
  }

  /** Brings the snapshot up to date with the cache, as the start of a scheduling cycle does. */
  refresh(): void {
    this.cache.updateSnapshot(this.snapshot);
  }

  /** A framework for one profile over this cluster's snapshot. */
  framework(registry: ReadonlyMap<string, PluginFactory>, plugins: Plugins, pluginArgs: ReadonlyMap<string, unknown> = new Map()): Framework {
    return new Framework(registry, { schedulerName: 'default-scheduler', plugins, pluginArgs, percentageOfNodesToScore: null }, { snapshot: this.snapshot, listers: this.listers });
  }
}
