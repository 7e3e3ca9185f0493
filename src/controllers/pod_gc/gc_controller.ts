// The pod garbage collector (upstream pkg/controller/podgc/gc_controller.go): every 20 s it force-
// deletes pods bound to nodes that no longer exist (after a 40 s quarantine and a live check),
// terminating pods never scheduled, terminating pods on out-of-service nodes, and the oldest
// terminated pods beyond the threshold (12500). Pods still running are first marked Failed.
import { logger } from '../../base/log.ts';
import type { Node, Pod, PodCondition } from '../../api/types/core_v1.ts';
import { isNotFound } from '../../client/api_errors.ts';
import { formatTime, parseTime, type Clock, type ClockTimer } from '../../client/clock.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';

const log = logger('pod-garbage-collector');

/** Upstream's --terminated-pod-gc-threshold default. */
export const DEFAULT_TERMINATED_POD_THRESHOLD = 12500;
const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service';

/** Tunables (upstream defaults unless given). */
export interface PodGcOptions {
  readonly terminatedPodThreshold?: number;
  /** gcCheckPeriod (20 s). */
  readonly gcPeriodMs?: number;
  /** How long a node must stay missing before its pods go (quarantineTime, 40 s). */
  readonly quarantineMs?: number;
}

/** The condition put on pods whose node is gone. */
export const NODE_GONE_CONDITION: PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' };

/** Deletes pods nobody else will clean up. */
export class PodGcController implements Controller {
  readonly pods: SharedIndexInformer<Pod>;
  readonly nodes: SharedIndexInformer<Node>;
  #podClient: ResourceClient<Pod>;
  #nodeClient: ResourceClient<Node>;
  #clock: Clock;
  #threshold: number;
  #periodMs: number;
  #quarantineMs: number;
  /** Missing node name -> when it was first noticed missing. */
  #missingSince = new Map<string, number>();
  #timer: ClockTimer | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(ctx: ControllerContext, opts: PodGcOptions = {}) {
    this.#clock = ctx.clock;
    this.#threshold = opts.terminatedPodThreshold ?? DEFAULT_TERMINATED_POD_THRESHOLD;
    this.#periodMs = opts.gcPeriodMs ?? 20_000;
    this.#quarantineMs = opts.quarantineMs ?? 40_000;
    this.pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    this.nodes = ctx.informers.informerFor<Node>(resourceDescriptor('v1', 'nodes'));
    this.#podClient = ctx.client.resource<Pod>(resourceDescriptor('v1', 'pods'));
    this.#nodeClient = ctx.client.resource<Node>(resourceDescriptor('v1', 'nodes'));
  }

  run(_workers: number): void {
    this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#running = this.gc()
        .catch((err: unknown) => log.warn('pod GC pass failed', { err }))
        .finally(() => {
          this.#running = undefined;
          this.#schedule(this.#periodMs);
        });
    }, delayMs);
  }

  /** One collection pass. */
  async gc(): Promise<void> {
    const pods = this.pods.lister.list();
    const nodes = this.nodes.lister.list();
    if (this.#threshold > 0) await this.gcTerminated(pods);
    await this.gcTerminating(pods, nodes);
    await this.gcOrphaned(pods, nodes);
    await this.gcUnscheduledTerminating(pods);
  }

  /** Deletes the oldest terminated pods above the threshold, evicted ones first. */
  async gcTerminated(pods: readonly Pod[]): Promise<void> {
    const terminated = pods.filter((p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed');
    const excess = terminated.length - this.#threshold;
    if (excess <= 0) return;
    terminated.sort((a, b) => {
      const ea = a.status?.reason === 'Evicted' ? 0 : 1, eb = b.status?.reason === 'Evicted' ? 0 : 1;
      if (ea !== eb) return ea - eb;
      return (parseTime(a.metadata?.creationTimestamp) ?? 0) - (parseTime(b.metadata?.creationTimestamp) ?? 0) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
    });
    for (const p of terminated.slice(0, excess)) await this.#markFailedAndDelete(p, undefined);
  }

  /** Terminating pods on not-ready nodes tainted out-of-service are force-deleted. */
  async gcTerminating(pods: readonly Pod[], nodes: readonly Node[]): Promise<void> {
    const outOfService = new Set(nodes.filter((n) => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status !== 'True' && (n.spec?.taints ?? []).some((t) => t.key === OUT_OF_SERVICE_TAINT && t.effect === 'NoExecute');
    }).map((n) => n.metadata?.name ?? ''));
    if (outOfService.size === 0) return;
    for (const p of pods) {
      if (p.metadata?.deletionTimestamp && p.spec?.nodeName && outOfService.has(p.spec.nodeName) && !isTerminal(p)) {
        await this.#markFailedAndDelete(p, undefined);
      }
    }
  }

  /** Pods bound to nodes missing for the whole quarantine (and confirmed gone) are deleted. */
  async gcOrphaned(pods: readonly Pod[], nodes: readonly Node[]): Promise<void> {
    const existing = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    const now = this.#clock.now();
    const missing = new Set<string>();
    for (const p of pods) {
      const n = p.spec?.nodeName;
      if (n && !existing.has(n)) missing.add(n);
    }
    for (const n of [...this.#missingSince.keys()]) if (!missing.has(n)) this.#missingSince.delete(n);
    const gone = new Set<string>();
    for (const n of missing) {
      const since = this.#missingSince.get(n);
      if (since === undefined) {
        this.#missingSince.set(n, now);
        continue;
      }
      if (now - since < this.#quarantineMs) continue;
      // The cache may lag: only a NotFound from the server proves the node is gone.
      try {
        await this.#nodeClient.get(n);
        this.#missingSince.delete(n);
      } catch (err) {
        if (isNotFound(err)) gone.add(n);
        else throw err;
      }
    }
    for (const p of pods) {
      if (p.spec?.nodeName && gone.has(p.spec.nodeName)) await this.#markFailedAndDelete(p, NODE_GONE_CONDITION);
    }
    for (const n of gone) this.#missingSince.delete(n);
  }

  /** Terminating pods that were never scheduled have no kubelet to finish them. */
  async gcUnscheduledTerminating(pods: readonly Pod[]): Promise<void> {
    for (const p of pods) {
      if (p.metadata?.deletionTimestamp && !p.spec?.nodeName) await this.#markFailedAndDelete(p, undefined);
    }
  }

  async #markFailedAndDelete(pod: Pod, condition: PodCondition | undefined): Promise<void> {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const client = this.#podClient.inNamespace(namespace);
    try {
      if (!isTerminal(pod)) {
        const updated = structuredClone(pod);
        const status = { ...updated.status, phase: 'Failed' };
        if (condition) {
          const others = (status.conditions ?? []).filter((c) => c.type !== condition.type);
          const prev = status.conditions?.find((c) => c.type === condition.type);
          const ltt = prev?.status === condition.status ? prev.lastTransitionTime : formatTime(this.#clock.now());
          status.conditions = [...others, { ...condition, ...(ltt ? { lastTransitionTime: ltt } : {}) }];
        }
        updated.status = status;
        await client.updateStatus(updated);
      }
      await client.delete(name, { gracePeriodSeconds: 0 });
      log.info('PodGC is force deleting Pod', { pod: `${namespace}/${name}` });
    } catch (err) {
      if (isNotFound(err)) return;
      log.warn('failed to delete pod', { pod: `${namespace}/${name}`, err });
    }
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#timer?.dispose();
    await this.#running;
  }
}

function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

registerController('podgc', (ctx) => new PodGcController(ctx), 1);
