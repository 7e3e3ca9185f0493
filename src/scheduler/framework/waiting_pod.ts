// A pod held at Permit (runtime/waiting_pods_map.go): it waits until every plugin that asked to wait
// allows it, one rejects it, or a plugin's timeout passes; timers come from the injected clock.

import type { Pod } from '../../api/types/core_v1.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { Code, newStatus, type PluginStatus, type WaitingPod } from './interface.ts';

/** A pod held at Permit until every waiting plugin allows it, one rejects it, or time runs out. */
export class WaitingPodImpl implements WaitingPod {
  readonly pod: Pod;
  private readonly pending: Map<string, TimerHandle>;
  private settle: ((s: PluginStatus) => void) | null = null;
  private outcome: PluginStatus | undefined;

  constructor(pod: Pod, waits: ReadonlyMap<string, number>, clock: Clock) {
    this.pod = pod;
    this.pending = new Map();
    for (const [plugin, ms] of waits) {
      this.pending.set(plugin, clock.setTimer(ms, () => {
        this.reject(plugin, `rejected due to timeout after waiting ${ms / 1000}s at plugin ${plugin}`);
      }));
    }
  }

  allow(plugin: string): void {
    const t = this.pending.get(plugin);
    if (t === undefined) return;
    t.cancel();
    this.pending.delete(plugin);
    if (this.pending.size === 0) this.finish(null);
  }

  reject(plugin: string, message: string): void {
    this.finish(newStatus(Code.Unschedulable, message).withPlugin(plugin));
  }

  private finish(s: PluginStatus): void {
    if (this.outcome !== undefined) return;
    for (const t of this.pending.values()) t.cancel();
    this.pending.clear();
    this.outcome = s;
    this.settle?.(s);
  }

  wait(): Promise<PluginStatus> {
    if (this.outcome !== undefined) return Promise.resolve(this.outcome);
    return new Promise((resolve) => {
      this.settle = resolve;
    });
  }
}
