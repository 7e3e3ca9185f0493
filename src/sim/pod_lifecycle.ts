// The kubelet's part for pods bound to simulated nodes: one informer on assigned pods, filtered by
// the simulator's node set, feeds a work queue; sync(key) picks the pod stage due first (stages/
// pod-*.yaml), waits for it on the queue's clock, and sends its status patch or delete.
import { strategicMergePatch } from '../api/patch/strategic_merge.ts';
import type { Pod } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { isConflict, isNotFound } from '../client/api_errors.ts';
import { formatTime, sleep, type Clock } from '../client/clock.ts';
import type { SharedInformerFactory } from '../client/informer_factory.ts';
import { RateLimitingQueue } from '../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { ResourceClient } from '../client/resource_client.ts';
import type { RestClient } from '../client/rest_client.ts';
import type { SharedIndexInformer } from '../client/shared_informer.ts';
import { DeletedFinalStateUnknown } from '../client/store.ts';
import { TokenBucket } from '../client/token_bucket.ts';
import { mergePatchDiff } from './merge_diff.ts';
import { nodeReadyStatus, type SimNode } from './node_object.ts';
import { pickStage, renderStage, StageKind, type Stage } from './stage.ts';

const log = logger('sim-pods');

/** Options of PodLifecycle. */
export interface PodLifecycleOptions {
  readonly client: RestClient;
  readonly factory: SharedInformerFactory;
  readonly stages: readonly Stage[];
  readonly clock: Clock;
  /** The `options` variable of pod stages (completeAfter, failAfter, deleteAfter). */
  readonly stageOptions: Readonly<Record<string, string>>;
  /** Concurrent status writers. */
  readonly workers: number;
  /** Writes per second at most; undefined: unlimited. */
  readonly qps?: number;
}

/** Counters, for tests and reports. */
export interface PodLifecycleStats {
  patches: number;
  deletes: number;
  errors: number;
}

/** Plays the kubelet for pods on a set of simulated nodes. */
export class PodLifecycle implements Disposable {
  readonly informer: SharedIndexInformer<Pod>;
  readonly stats: PodLifecycleStats = { patches: 0, deletes: 0, errors: 0 };
  #nodes: ReadonlyMap<string, SimNode>;
  #pods: ResourceClient<Pod>;
  #stages: readonly Stage[];
  #clock: Clock;
  #stageOptions: Readonly<Record<string, string>>;
  #queue: RateLimitingQueue<string>;
  #workers: number;
  #running: Promise<void>[] = [];
  #limiter: TokenBucket | undefined;
  // The resourceVersion each key was last acted on: until the watch shows a newer one, the cache
  // does not reflect our write yet and acting again would repeat it.
  #actedOn = new Map<string, string>();
  // When each delayed stage (without `since`) was first found matching, by pod uid and stage name.
  #firstSeen = new Map<string, Map<string, number>>();
  // When this simulator applied each stage, by pod uid: the `applied` variable of the stages, to
  // time delays to the millisecond where the status only keeps seconds.
  #applied = new Map<string, Record<string, number>>();

  constructor(nodes: ReadonlyMap<string, SimNode>, opts: PodLifecycleOptions) {
    this.#nodes = nodes;
    this.#pods = opts.client.resource<Pod>(resourceDescriptor('v1', 'pods'));
    this.#stages = opts.stages.filter((s) => s.kind === StageKind.Pod);
    this.#clock = opts.clock;
    this.#stageOptions = opts.stageOptions;
    this.#workers = opts.workers;
    this.#queue = new RateLimitingQueue<string>({ name: 'sim-pods', clock: opts.clock });
    if (opts.qps !== undefined) this.#limiter = new TokenBucket(opts.qps, Math.max(1, Math.ceil(opts.qps / 10)), opts.clock);
    // Every assigned pod, filtered here: one watch serves any number of simulated nodes.
    this.informer = opts.factory.informerFor<Pod>(resourceDescriptor('v1', 'pods'), { fieldSelector: 'spec.nodeName!=', indexers: { [POD_NODE_INDEX]: podNodeIndexFunc } });
    this.informer.addEventHandler({
      onAdd: (pod) => this.#onAdd(pod),
      onUpdate: (old, pod) => {
        if (old.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.#enqueue(pod);
      },
      onDelete: (obj) => this.#onDelete(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj),
    });
  }

  /** Starts the workers (the informer is started by its factory). */
  start(): void {
    for (let i = 0; i < this.#workers; i++) this.#running.push(this.#work());
  }

  /**
   * The node's Ready condition turned True again: look again at its pods that are not Ready (the
   * node lifecycle controller marks them so while the node is Unknown), since no pod event will come.
   */
  nodeReadyAgain(nodeName: string): void {
    this.informer.indexer.forEachByIndex(POD_NODE_INDEX, nodeName, (pod, key) => {
      if (!isReady(pod)) this.#queue.add(key);
    });
  }

  /** Pods waiting to be synced, now or later. */
  backlog(): number {
    return this.#queue.len() + this.#queue.waitingLen();
  }

  /** Stops the workers after the syncs in flight. */
  async dispose(): Promise<void> {
    this.#queue.shutDown();
    await Promise.all(this.#running);
  }

  /** Moves one pod along: acts on the stage that is due, or schedules the key for when it will be. */
  async sync(key: string): Promise<void> {
    const pod = this.informer.indexer.getByKey(key);
    if (!pod) return;
    const node = this.#nodes.get(pod.spec?.nodeName ?? '');
    const meta = pod.metadata ?? {};
    if (!node || !meta.name || !meta.namespace || !meta.uid) return;
    if (this.#actedOn.get(key) === meta.resourceVersion) return;
    const now = this.#clock.now();
    const uid = meta.uid;
    let podIP: string | undefined;
    const vars = {
      now: formatTime(now),
      node: node.vars,
      options: this.#stageOptions,
      applied: this.#applied.get(uid) ?? {},
      // Allocated only when a stage reads it (hostNetwork pods never do).
      get podIP(): string | undefined {
        return (podIP ??= node.pods.allocate(uid));
      },
      get nodeReady(): string | undefined {
        return nodeReadyStatus(node.current);
      },
    };
    const env = { root: pod, vars };
    const pick = pickStage(this.#stages, StageKind.Pod, env, (s) => this.#firstSeenOf(uid, s.name, now));
    if (!pick) return;
    if (pick.dueMs > now) {
      this.#queue.addAfter(key, pick.dueMs - now);
      return;
    }
    const action = renderStage(pick.stage, env);
    // The stage is a strategic merge patch; applied here to our copy, it goes out as a plain merge
    // patch (about twice as cheap for the API server) guarded by the resourceVersion it was built on.
    let patch: Record<string, unknown> | undefined;
    if (!action.delete) {
      const before = { status: pod.status ?? {} };
      const after = strategicMergePatch(before, { status: action.status ?? {} }, 'io.k8s.api.core.v1.Pod');
      patch = mergePatchDiff(before, after);
      if (!patch) {
        this.#actedOn.set(key, meta.resourceVersion ?? '');
        return;
      }
      patch['metadata'] = { uid, resourceVersion: meta.resourceVersion };
    }
    if (this.#limiter) {
      const wait = this.#limiter.reserve();
      if (wait > 0) await sleep(this.#clock, wait);
    }
    const pods = this.#pods.inNamespace(meta.namespace);
    try {
      if (action.delete) {
        await pods.delete(meta.name, { gracePeriodSeconds: 0, preconditions: { uid } });
        this.stats.deletes++;
      } else {
        await pods.patchStatus(meta.name, 'merge', patch);
        this.stats.patches++;
      }
    } catch (err) {
      // Gone, replaced by a pod of the same name, or changed since our copy: the informer brings the news.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
    this.#actedOn.set(key, meta.resourceVersion ?? '');
    let applied = this.#applied.get(uid);
    if (!applied) this.#applied.set(uid, (applied = {}));
    applied[pick.stage.name] = now;
  }

  #isOurs(pod: Pod): boolean {
    return this.#nodes.has(pod.spec?.nodeName ?? '');
  }

  #enqueue(pod: Pod): void {
    if (this.#isOurs(pod)) this.#queue.add(keyOf(pod));
  }

  #onAdd(pod: Pod): void {
    if (!this.#isOurs(pod)) return;
    // After a restart of the simulator, pods keep the addresses they had.
    const ip = pod.status?.podIP;
    const uid = pod.metadata?.uid;
    if (ip && uid && !pod.spec?.hostNetwork) this.#nodes.get(pod.spec!.nodeName!)!.pods.reserve(uid, ip);
    this.#queue.add(keyOf(pod));
  }

  #onDelete(pod: Pod): void {
    const uid = pod.metadata?.uid;
    const node = this.#nodes.get(pod.spec?.nodeName ?? '');
    if (!node || !uid) return;
    node.pods.release(uid);
    this.#firstSeen.delete(uid);
    this.#applied.delete(uid);
    this.#actedOn.delete(keyOf(pod));
  }

  #firstSeenOf(uid: string, stage: string, now: number): number {
    let m = this.#firstSeen.get(uid);
    if (!m) this.#firstSeen.set(uid, (m = new Map()));
    let t = m.get(stage);
    if (t === undefined) m.set(stage, (t = now));
    return t;
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.#queue.forget(key);
      } catch (err) {
        this.stats.errors++;
        log.warn('pod sync failed; retrying', { pod: key, err: err instanceof Error ? err.message : String(err) });
        this.#queue.addRateLimited(key);
      } finally {
        this.#queue.done(key);
      }
    }
  }
}

const POD_NODE_INDEX = 'spec.nodeName';

function podNodeIndexFunc(pod: Pod): string[] {
  const n = pod.spec?.nodeName;
  return n ? [n] : [];
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function keyOf(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}
