// The node lifecycle controller (upstream pkg/controller/nodelifecycle): watches kubelet heartbeats
// (the Ready condition and the kube-node-lease Lease), marks nodes whose heartbeats stop for the
// grace period Unknown, marks their pods NotReady, and taints them not-ready/unreachable (NoExecute,
// rate-limited per zone; NoSchedule from conditions) so the taint eviction controller acts.
import { logger } from '../../base/log.ts';
import type { Node, NodeCondition, Pod } from '../../api/types/core_v1.ts';
import type { Lease } from '../../api/types/coordination_v1.ts';
import { isConflict, isNotFound } from '../../client/api_errors.ts';
import { formatTime, parseTime, type Clock, type ClockTimer } from '../../client/clock.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { TokenBucket } from '../../client/token_bucket.ts';
import { parallelizeUntil } from '../../client/parallelizer.ts';
import { unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { CONDITION_TAINTS, NOT_READY_TAINT, TaintKey, UNREACHABLE_TAINT, swapNodeTaints, taintExists } from './taints.ts';

const log = logger('node-lifecycle-controller');

/** Index of pods by spec.nodeName. */
export const POD_NODE_INDEX = 'spec.nodeName';
/** Nodes with this label do not count for zone disruption. */
const LABEL_EXCLUDE_DISRUPTION = 'node.kubernetes.io/exclude-disruption';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The NoSchedule taint keys this controller owns. */
const MANAGED_NO_SCHEDULE_KEYS: ReadonlySet<string> = new Set<string>([TaintKey.Unschedulable, ...Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m))]);
/** Upstream's nodeUpdateWorkerSize and podUpdateWorkerSize (its node and pod update queues share one queue here). */
const NODE_UPDATE_WORKERS = 8;
const POD_UPDATE_WORKERS = 4;

/** Zone health states (ZoneState). */
export const ZoneState = { Initial: 'Initial', Normal: 'Normal', FullDisruption: 'FullDisruption', PartialDisruption: 'PartialDisruption' } as const;
export type ZoneState = (typeof ZoneState)[keyof typeof ZoneState];

/** Tunables, upstream's kube-controller-manager defaults unless given. */
export interface NodeLifecycleOptions {
  /** --node-monitor-period (5 s). */
  readonly monitorPeriodMs?: number;
  /** --node-monitor-grace-period (40 s); ControllerOptions.nodeMonitorGracePeriodMs wins when set. */
  readonly gracePeriodMs?: number;
  /** --node-startup-grace-period (60 s). */
  readonly startupGracePeriodMs?: number;
  /** --node-eviction-rate (0.1 nodes/s per zone). */
  readonly evictionLimiterQps?: number;
  /** --secondary-node-eviction-rate (0.01). */
  readonly secondaryEvictionLimiterQps?: number;
  /** --large-cluster-size-threshold (50). */
  readonly largeClusterThreshold?: number;
  /** --unhealthy-zone-threshold (0.55). */
  readonly unhealthyZoneThreshold?: number;
}

interface NodeHealth {
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  ready: NodeCondition | undefined;
  leaseRenewTime: number | undefined;
}

/** Nodes waiting for their NoExecute taint in one zone, behind the zone's rate limiter. */
interface ZoneTainter {
  limiter: TokenBucket | undefined;
  qps: number;
  queue: Map<string, number>;
  /** Names already handled; they are not queued again until marked reachable (UniqueQueue's set). */
  seen: Set<string>;
}

/** Marks silent nodes Unknown and taints unhealthy nodes. */
export class NodeLifecycleController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly nodes: SharedIndexInformer<Node>;
  readonly leases: SharedIndexInformer<Lease>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly zoneStates = new Map<string, ZoneState>();
  #nodeClient: ResourceClient<Node>;
  #podClient: ResourceClient<Pod>;
  #recorder: EventRecorder;
  #clock: Clock;
  #health = new Map<string, NodeHealth>();
  #known = new Map<string, Node>();
  #tainters = new Map<string, ZoneTainter>();
  #retryMarkPods = new Set<string>();
  #handlers: HandlerRegistration[] = [];
  #timer: ClockTimer | undefined;
  #taintTimer: ClockTimer | undefined;
  #stopped = false;
  #monitoring: Promise<void> | undefined;
  readonly monitorPeriodMs: number;
  readonly gracePeriodMs: number;
  readonly startupGracePeriodMs: number;
  #qps: number;
  #secondaryQps: number;
  #largeCluster: number;
  #unhealthyThreshold: number;

  constructor(ctx: ControllerContext, opts: NodeLifecycleOptions = {}) {
    this.monitorPeriodMs = opts.monitorPeriodMs ?? 5000;
    this.gracePeriodMs = ctx.options.nodeMonitorGracePeriodMs ?? opts.gracePeriodMs ?? 40_000;
    this.startupGracePeriodMs = opts.startupGracePeriodMs ?? 60_000;
    this.#qps = opts.evictionLimiterQps ?? 0.1;
    this.#secondaryQps = opts.secondaryEvictionLimiterQps ?? 0.01;
    this.#largeCluster = opts.largeClusterThreshold ?? 50;
    this.#unhealthyThreshold = opts.unhealthyZoneThreshold ?? 0.55;
    this.#clock = ctx.clock;
    this.queue = new RateLimitingQueue<string>({ name: 'node_lifecycle_controller', clock: ctx.clock });
    this.nodes = ctx.informers.informerFor<Node>(resourceDescriptor('v1', 'nodes'));
    this.leases = ctx.informers.informerFor<Lease>(resourceDescriptor('coordination.k8s.io/v1', 'leases'));
    this.pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'), {
      indexers: { [POD_NODE_INDEX]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
    });
    this.#nodeClient = ctx.client.resource<Node>(resourceDescriptor('v1', 'nodes'));
    this.#podClient = ctx.client.resource<Pod>(resourceDescriptor('v1', 'pods'));
    this.#recorder = ctx.recorder('node-controller');
    this.#handlers.push(this.nodes.addEventHandler({
      onAdd: (n) => this.queue.add(`node/${n.metadata?.name ?? ''}`),
      onUpdate: (_old, n) => this.queue.add(`node/${n.metadata?.name ?? ''}`),
      onDelete: (obj) => this.#health.delete(unwrapTombstone(obj).metadata?.name ?? ''),
    }));
    this.#handlers.push(this.pods.addEventHandler({
      onAdd: (p) => this.#podUpdated(undefined, p),
      onUpdate: (old, p) => this.#podUpdated(old, p),
    }));
  }

  #podUpdated(old: Pod | undefined, pod: Pod): void {
    const node = pod.spec?.nodeName;
    if (node && (!old || old.spec?.nodeName !== node)) this.queue.add(`pod/${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`);
  }

  run(workers: number): void {
    for (let i = 0; i < workers; i++) void this.#worker();
    this.#scheduleMonitor(0);
  }

  #scheduleMonitor(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#monitoring = this.monitorNodeHealth()
        .catch((err: unknown) => log.error('Error monitoring node health', { err }))
        .finally(() => {
          this.#monitoring = undefined;
          this.#scheduleMonitor(this.monitorPeriodMs);
        });
    }, delayMs);
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        if (key.startsWith('node/')) await this.doNoScheduleTaintingPass(key.slice(5));
        else await this.processPod(key.slice(4));
        this.queue.forget(key);
      } catch (err) {
        log.warn('sync failed, will retry', { key, err });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Keeps the NoSchedule taints of node `name` in line with its conditions and spec.unschedulable. */
  async doNoScheduleTaintingPass(name: string): Promise<void> {
    const node = this.nodes.lister.get('', name);
    if (!node) return;
    const want: { key: string; effect: string }[] = [];
    for (const c of node.status?.conditions ?? []) {
      const key = CONDITION_TAINTS[c.type]?.[c.status];
      if (key) want.push({ key, effect: 'NoSchedule' });
    }
    if (node.spec?.unschedulable) want.push({ key: TaintKey.Unschedulable, effect: 'NoSchedule' });
    const have = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' && MANAGED_NO_SCHEDULE_KEYS.has(t.key));
    const add = want.filter((w) => !have.some((h) => h.key === w.key));
    const remove = have.filter((h) => !want.some((w) => w.key === h.key));
    if (add.length === 0 && remove.length === 0) return;
    try {
      await swapNodeTaints(this.#nodeClient, name, add, remove, this.#clock);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  /** A pod bound to a node that is not Ready is marked NotReady at once. */
  async processPod(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const pod = this.pods.lister.get(namespace, name);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const health = this.#health.get(nodeName);
    if (!health || !this.nodes.lister.get('', nodeName)) return;
    if (health.ready && health.ready.status !== 'True') await this.markPodsNotReady([pod], nodeName);
  }

  /** One pass over every node (monitorNodeHealth). */
  async monitorNodeHealth(): Promise<void> {
    const nodes = this.nodes.lister.list();
    const current = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    for (const n of nodes) {
      const name = n.metadata?.name ?? '';
      if (this.#known.has(name)) continue;
      this.#recordNodeEvent(n, 'RegisteredNode', `Registered Node ${name} in Controller`);
      this.#known.set(name, n);
      this.#tainterFor(zoneKey(n));
      await this.markNodeAsReachable(n).catch((err: unknown) => log.warn('failed to remove taints', { node: name, err }));
    }
    for (const [name, n] of [...this.#known]) {
      if (current.has(name)) continue;
      this.#recordNodeEvent(n, 'RemovingNode', `Removing Node ${name} from Controller`);
      this.#known.delete(name);
      this.#health.delete(name);
    }

    const zoneConditions = new Map<string, (NodeCondition | undefined)[]>();
    // Most of a node's time here is spent waiting on the API (status writes, pods marked NotReady):
    // nodes are processed with upstream's bounded concurrency (ParallelizeUntil with nodeUpdateWorkerSize).
    await parallelizeUntil(NODE_UPDATE_WORKERS, nodes, (cached) => this.#updateNode(cached, zoneConditions));
    await this.handleDisruption(zoneConditions, nodes);
    await this.doNoExecuteTaintingPass();
  }

  /** One node of a monitorNodeHealth pass: its health, NoExecute taints and pods. */
  async #updateNode(cached: Node, zoneConditions: Map<string, (NodeCondition | undefined)[]>): Promise<void> {
    const name = cached.metadata?.name ?? '';
    let result: { observed: NodeCondition; current: NodeCondition | undefined } | undefined;
    // tryUpdateNodeHealth replaces (never edits in place) what it changes, so a shallow copy keeps the
    // cached object intact without deep-copying every node on every pass.
    let node: Node = { ...cached };
    for (let attempt = 0; attempt < 5 && !result; attempt++) {
      try {
        result = await this.tryUpdateNodeHealth(node);
      } catch (err) {
        if (!isConflict(err)) log.warn('Error updating node', { node: name, err });
        try {
          node = await this.#nodeClient.get(name);
        } catch {
          break;
        }
      }
    }
    if (!result) return;
    if (!(LABEL_EXCLUDE_DISRUPTION in (node.metadata?.labels ?? {}))) {
      const z = zoneKey(node);
      let conds = zoneConditions.get(z);
      if (!conds) zoneConditions.set(z, conds = []);
      conds.push(result.current);
    }
    if (!result.current) return;
    await this.processTaintBaseEviction(node, result.observed);
    const needsRetry = this.#retryMarkPods.has(name);
    const becameNotReady = result.current.status !== 'True' && result.observed.status === 'True';
    if (becameNotReady) {
      this.#recorder.event({ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata?.uid ?? '', namespace: '' }, EventType.Normal, 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    if (becameNotReady || (needsRetry && result.observed.status !== 'True')) {
      try {
        await this.markPodsNotReady(this.pods.indexer.byIndex(POD_NODE_INDEX, name), name);
      } catch (err) {
        log.warn('unable to mark all pods NotReady; queuing for retry', { node: name, err });
        this.#retryMarkPods.add(name);
        return;
      }
    }
    this.#retryMarkPods.delete(name);
  }

  /**
   * Compares the node's heartbeats with what was seen before and, past the grace period, sets its
   * conditions Unknown (tryUpdateNodeHealth). Returns the Ready condition before and after.
   */
  async tryUpdateNodeHealth(node: Node): Promise<{ observed: NodeCondition; current: NodeCondition | undefined }> {
    const name = node.metadata?.name ?? '';
    const now = this.#clock.now();
    let health = this.#health.get(name);
    const created = parseTime(node.metadata?.creationTimestamp) ?? now;
    let current = node.status?.conditions?.find((c) => c.type === 'Ready');
    let observed: NodeCondition;
    let grace: number;
    if (!current) {
      observed = { type: 'Ready', status: 'Unknown', lastHeartbeatTime: node.metadata?.creationTimestamp ?? '', lastTransitionTime: node.metadata?.creationTimestamp ?? '' };
      grace = this.startupGracePeriodMs;
      if (health) health.ready = undefined;
      else health = { probeTimestamp: created, readyTransitionTimestamp: created, ready: undefined, leaseRenewTime: undefined };
    } else {
      observed = { ...current };
      grace = this.gracePeriodMs;
    }
    const saved = health?.ready;
    if (!health) {
      health = { probeTimestamp: now, readyTransitionTimestamp: now, ready: current && { ...current }, leaseRenewTime: undefined };
    } else if ((!saved && current) || (saved && !current)) {
      health = { probeTimestamp: now, readyTransitionTimestamp: now, ready: current && { ...current }, leaseRenewTime: health.leaseRenewTime };
    } else if (saved && current && saved.lastHeartbeatTime !== current.lastHeartbeatTime) {
      const transition = saved.lastTransitionTime !== current.lastTransitionTime ? now : health.readyTransitionTimestamp;
      health = { probeTimestamp: now, readyTransitionTimestamp: transition, ready: { ...current }, leaseRenewTime: health.leaseRenewTime };
    }
    // A renewed Lease counts as a heartbeat even when the status is not posted.
    const lease = this.leases.lister.get(NODE_LEASE_NAMESPACE, name);
    const renew = parseTime(lease?.spec?.renewTime);
    if (renew !== undefined && (health.leaseRenewTime === undefined || health.leaseRenewTime < renew)) {
      health.leaseRenewTime = renew;
      health.probeTimestamp = now;
    }
    this.#health.set(name, health);

    if (now > health.probeTimestamp + grace) {
      const ts = formatTime(now);
      node.status = { ...node.status, conditions: [...(node.status?.conditions ?? [])] };
      const conditions = node.status.conditions!;
      for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
        const i = conditions.findIndex((c) => c.type === type);
        if (i < 0) {
          conditions.push({
            type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.',
            lastHeartbeatTime: node.metadata?.creationTimestamp ?? ts, lastTransitionTime: ts,
          });
        } else if (conditions[i]!.status !== 'Unknown') {
          conditions[i] = { ...conditions[i]!, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: ts };
        }
      }
      current = conditions.find((c) => c.type === 'Ready');
      if (JSON.stringify(current) !== JSON.stringify(observed)) {
        const written = await this.#nodeClient.updateStatus(node);
        node.metadata = written.metadata ?? node.metadata;
        this.#health.set(name, { probeTimestamp: health.probeTimestamp, readyTransitionTimestamp: now, ready: current && { ...current }, leaseRenewTime: health.leaseRenewTime });
      }
    }
    return { observed, current };
  }

  /** Queues or swaps the NoExecute taint by the Ready condition seen before this pass. */
  async processTaintBaseEviction(node: Node, observed: NodeCondition): Promise<void> {
    const name = node.metadata?.name ?? '';
    switch (observed.status) {
      case 'False':
        if (taintExists(node.spec?.taints, UNREACHABLE_TAINT)) await swapNodeTaints(this.#nodeClient, name, [NOT_READY_TAINT], [UNREACHABLE_TAINT], this.#clock);
        else this.#markNodeForTainting(node, 'False');
        break;
      case 'Unknown':
        if (taintExists(node.spec?.taints, NOT_READY_TAINT)) await swapNodeTaints(this.#nodeClient, name, [UNREACHABLE_TAINT], [NOT_READY_TAINT], this.#clock);
        else this.#markNodeForTainting(node, 'Unknown');
        break;
      case 'True':
        await this.markNodeAsReachable(node);
        break;
    }
  }

  #markNodeForTainting(node: Node, status: string): void {
    const name = node.metadata?.name ?? '';
    const t = this.#tainterFor(zoneKey(node));
    // A NotReady node not yet carrying its taint is re-queued from scratch.
    if (status === 'False' && !taintExists(node.spec?.taints, NOT_READY_TAINT)) {
      t.queue.delete(name);
      t.seen.delete(name);
    }
    if (t.seen.has(name)) return;
    t.seen.add(name);
    t.queue.set(name, this.#clock.now());
  }

  /** Removes both NoExecute taints (if present) and forgets queued tainting. */
  async markNodeAsReachable(node: Node): Promise<boolean> {
    const name = node.metadata?.name ?? '';
    const present = [UNREACHABLE_TAINT, NOT_READY_TAINT].filter((t) => taintExists(node.spec?.taints, t));
    if (present.length > 0) await swapNodeTaints(this.#nodeClient, name, [], present, this.#clock);
    const t = this.#tainters.get(zoneKey(node));
    if (!t) return false;
    const had = t.seen.has(name);
    t.queue.delete(name);
    t.seen.delete(name);
    return had;
  }

  /** Applies queued NoExecute taints as each zone's rate limiter allows. */
  async doNoExecuteTaintingPass(): Promise<void> {
    let retryIn: number | undefined;
    for (const t of this.#tainters.values()) {
      const due = [...t.queue].filter(([, at]) => at <= this.#clock.now()).sort((a, b) => a[1] - b[1]);
      for (const [name] of due) {
        if (!t.limiter || !t.limiter.tryAccept()) {
          if (t.limiter) retryIn = Math.min(retryIn ?? Infinity, Math.ceil(1000 / t.qps));
          break;
        }
        const node = this.nodes.lister.get('', name);
        const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
        if (!node || !ready || ready.status === 'True') {
          // Gone or healthy again: nothing to taint. Without a condition yet, look again soon.
          if (node && !ready) t.queue.set(name, this.#clock.now() + 50);
          else t.queue.delete(name);
          continue;
        }
        const [add, remove] = ready.status === 'False' ? [NOT_READY_TAINT, UNREACHABLE_TAINT] : [UNREACHABLE_TAINT, NOT_READY_TAINT];
        try {
          await swapNodeTaints(this.#nodeClient, name, [add], [remove], this.#clock);
          t.queue.delete(name);
        } catch (err) {
          log.warn('unable to taint unresponsive node', { node: name, err });
          t.queue.set(name, this.#clock.now() + 1);
        }
      }
      if (t.queue.size > 0 && t.limiter) retryIn = Math.min(retryIn ?? Infinity, 100);
    }
    this.#taintTimer?.dispose();
    this.#taintTimer = undefined;
    if (retryIn !== undefined && Number.isFinite(retryIn) && !this.#stopped) {
      this.#taintTimer = this.#clock.setTimer(() => {
        this.#taintTimer = undefined;
        this.doNoExecuteTaintingPass().catch((err: unknown) => log.warn('tainting pass failed', { err }));
      }, retryIn);
    }
  }

  /** Updates zone states and eviction rates; with every zone down, stops tainting altogether. */
  async handleDisruption(zoneConditions: Map<string, (NodeCondition | undefined)[]>, nodes: readonly Node[]): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allFully = true;
    for (const [zone, conds] of zoneConditions) {
      const state = this.computeZoneState(conds);
      if (state !== ZoneState.FullDisruption) allFully = false;
      newStates.set(zone, state);
      if (!this.zoneStates.has(zone)) this.zoneStates.set(zone, ZoneState.Initial);
    }
    let allWereFully = true;
    for (const [zone, state] of [...this.zoneStates]) {
      if (!zoneConditions.has(zone)) {
        this.zoneStates.delete(zone);
        continue;
      }
      if (state !== ZoneState.FullDisruption) {
        allWereFully = false;
        break;
      }
    }
    if (allFully && allWereFully) return;
    if (allFully) {
      // Every node unreachable looks like the control plane's own network failing: evict nobody.
      log.info('Controller detected that all Nodes are not-Ready. Entering master disruption mode');
      for (const n of nodes) await this.markNodeAsReachable(n).catch((err: unknown) => log.warn('failed to remove taints', { err }));
      for (const zone of this.zoneStates.keys()) {
        this.#setLimiter(this.#tainterFor(zone), 0);
        this.zoneStates.set(zone, ZoneState.FullDisruption);
      }
      return;
    }
    if (allWereFully) {
      log.info('Controller detected that some Nodes are Ready. Exiting master disruption mode');
      const now = this.#clock.now();
      for (const n of nodes) {
        const h = this.#health.get(n.metadata?.name ?? '');
        if (h) {
          h.probeTimestamp = now;
          h.readyTransitionTimestamp = now;
        }
      }
    }
    for (const [zone, state] of this.zoneStates) {
      const next = newStates.get(zone)!;
      if (state === next && !allWereFully) continue;
      this.#setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, next);
      this.zoneStates.set(zone, next);
    }
  }

  /** Unhealthy count and state of one zone (ComputeZoneState). */
  computeZoneState(conditions: readonly (NodeCondition | undefined)[]): ZoneState {
    let ready = 0, notReady = 0;
    for (const c of conditions) {
      if (c?.status === 'True') ready++;
      else notReady++;
    }
    if (ready === 0 && notReady > 0) return ZoneState.FullDisruption;
    if (notReady > 2 && notReady / (notReady + ready) >= this.#unhealthyThreshold) return ZoneState.PartialDisruption;
    return ZoneState.Normal;
  }

  #setLimiterInZone(zone: string, size: number, state: ZoneState): void {
    const t = this.#tainterFor(zone);
    if (state === ZoneState.PartialDisruption) this.#setLimiter(t, size > this.#largeCluster ? this.#secondaryQps : 0);
    else this.#setLimiter(t, this.#qps);
  }

  #setLimiter(t: ZoneTainter, qps: number): void {
    if (t.qps === qps && (qps <= 0) === (t.limiter === undefined)) return;
    t.qps = qps;
    t.limiter = qps > 0 ? new TokenBucket(qps, 1, this.#clock) : undefined;
  }

  #tainterFor(zone: string): ZoneTainter {
    let t = this.#tainters.get(zone);
    if (!t) {
      t = { limiter: new TokenBucket(this.#qps, 1, this.#clock), qps: this.#qps, queue: new Map(), seen: new Set() };
      this.#tainters.set(zone, t);
    }
    return t;
  }

  /** Sets each pod's Ready condition False with a NodeNotReady event (MarkPodsNotReady). */
  async markPodsNotReady(pods: readonly Pod[], nodeName: string): Promise<void> {
    const errors: unknown[] = [];
    for (const cached of pods) {
      if (cached.spec?.nodeName !== nodeName) continue;
      const pod = structuredClone(cached);
      const cond = pod.status?.conditions?.find((c) => c.type === 'Ready');
      if (!cond || cond.status === 'False') continue;
      cond.status = 'False';
      cond.lastTransitionTime = formatTime(this.#clock.now());
      try {
        await this.#podClient.updateStatus(pod);
      } catch (err) {
        if (isNotFound(err)) continue;
        errors.push(err);
        continue;
      }
      this.#recorder.event(pod, EventType.Warning, 'NodeNotReady', 'Node is not ready');
    }
    if (errors.length > 0) throw errors[0];
  }

  #recordNodeEvent(node: Node, reason: string, text: string): void {
    const name = node.metadata?.name ?? '';
    this.#recorder.eventf({ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata?.uid ?? '', namespace: '' }, EventType.Normal, reason, 'Node %s event: %s', name, text);
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#timer?.dispose();
    this.#taintTimer?.dispose();
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
    await this.#monitoring;
  }
}

/** The failure-domain key of a node (nodetopology.GetZoneKey): region and zone, or ''. */
export function zoneKey(node: Node): string {
  const l = node.metadata?.labels ?? {};
  const region = l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\x00:${zone}`;
}

registerController('nodelifecycle', (ctx) => new NodeLifecycleController(ctx), NODE_UPDATE_WORKERS + POD_UPDATE_WORKERS);
