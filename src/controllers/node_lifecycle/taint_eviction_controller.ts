// The taint eviction controller (upstream pkg/controller/tainteviction): pods on a node with
// NoExecute taints they do not tolerate are deleted at once; pods tolerating them for
// tolerationSeconds are deleted when that time runs out (counted from when the eviction was first
// scheduled), unless the taint goes away first. Deleted pods get a DisruptionTarget condition.
import { logger } from '../../base/log.ts';
import type { Node, Pod, Taint } from '../../api/types/core_v1.ts';
import { isNotFound } from '../../client/api_errors.ts';
import { formatTime, type Clock, type ClockTimer } from '../../client/clock.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { POD_NODE_INDEX } from './node_lifecycle_controller.ts';
import { matchingTolerations, minTolerationMs } from './taints.ts';

const log = logger('taint-eviction-controller');

interface ScheduledEviction {
  readonly createdAt: number;
  readonly fireAt: number;
  readonly timer: ClockTimer;
}

/** Deletes pods that do not (or no longer) tolerate their node's NoExecute taints. */
export class TaintEvictionController implements Controller {
  /** Keys "node/<name>" (re-check all its pods) and "pod/<ns>/<name>". */
  readonly queue: RateLimitingQueue<string>;
  readonly nodes: SharedIndexInformer<Node>;
  readonly pods: SharedIndexInformer<Pod>;
  #podClient: ResourceClient<Pod>;
  #recorder: EventRecorder;
  #clock: Clock;
  #scheduled = new Map<string, ScheduledEviction>();
  #handlers: HandlerRegistration[] = [];
  #deleting = new Set<Promise<void>>();

  constructor(ctx: ControllerContext) {
    this.#clock = ctx.clock;
    this.queue = new RateLimitingQueue<string>({ name: 'taint_eviction', clock: ctx.clock });
    this.nodes = ctx.informers.informerFor<Node>(resourceDescriptor('v1', 'nodes'));
    this.pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'), {
      indexers: { [POD_NODE_INDEX]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
    });
    this.#podClient = ctx.client.resource<Pod>(resourceDescriptor('v1', 'pods'));
    this.#recorder = ctx.recorder('taint-eviction-controller');
    this.#handlers.push(this.nodes.addEventHandler({
      onAdd: (n) => this.queue.add(`node/${n.metadata?.name ?? ''}`),
      onUpdate: (old, n) => {
        if (JSON.stringify(noExecuteTaints(old)) !== JSON.stringify(noExecuteTaints(n))) this.queue.add(`node/${n.metadata?.name ?? ''}`);
      },
      onDelete: (obj) => this.queue.add(`node/${unwrapTombstone(obj).metadata?.name ?? ''}`),
    }));
    this.#handlers.push(this.pods.addEventHandler({
      onAdd: (p) => this.#podChanged(p),
      onUpdate: (old, p) => {
        if (old.spec?.nodeName !== p.spec?.nodeName || JSON.stringify(old.spec?.tolerations) !== JSON.stringify(p.spec?.tolerations)) this.#podChanged(p);
      },
      onDelete: (obj) => this.#cancel(podKey(unwrapTombstone(obj)), false),
    }));
  }

  #podChanged(p: Pod): void {
    if (p.spec?.nodeName) this.queue.add(`pod/${podKey(p)}`);
  }

  run(workers: number): void {
    for (let i = 0; i < workers; i++) void this.#worker();
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        if (key.startsWith('node/')) this.syncNode(key.slice(5));
        else this.syncPod(key.slice(4));
        this.queue.forget(key);
      } catch (err) {
        log.warn('sync failed, will retry', { key, err });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Re-evaluates every pod on node `name` (handleNodeUpdate). */
  syncNode(name: string): void {
    const node = this.nodes.lister.get('', name);
    const taints = node ? noExecuteTaints(node) : [];
    for (const pod of this.pods.indexer.byIndex(POD_NODE_INDEX, name)) this.#processPodOnNode(pod, taints);
  }

  /** Re-evaluates one pod (handlePodUpdate). */
  syncPod(key: string): void {
    const [namespace = '', name = ''] = key.split('/');
    const pod = this.pods.lister.get(namespace, name);
    if (!pod) {
      this.#cancel(key, false);
      return;
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const node = this.nodes.lister.get('', nodeName);
    this.#processPodOnNode(pod, node ? noExecuteTaints(node) : []);
  }

  #processPodOnNode(pod: Pod, taints: readonly Taint[]): void {
    const key = podKey(pod);
    if (taints.length === 0) {
      this.#cancel(key, true);
      return;
    }
    const { all, used } = matchingTolerations(taints, pod.spec?.tolerations ?? []);
    const now = this.#clock.now();
    if (!all) {
      this.#cancel(key, true);
      this.#schedule(key, now, now);
      return;
    }
    const min = minTolerationMs(used);
    if (min < 0) {
      this.#cancel(key, true);
      return;
    }
    let startedAt = now;
    const existing = this.#scheduled.get(key);
    if (existing) {
      // An eviction scheduled earlier keeps its deadline: tolerations count from the first decision.
      startedAt = existing.createdAt;
      if (startedAt + min < now + min) return;
      this.#cancel(key, true);
    }
    this.#schedule(key, startedAt, now + min);
  }

  /** When the eviction of pod `key` is due, if one is scheduled (for tests and describe-like output). */
  scheduledEviction(key: string): number | undefined {
    return this.#scheduled.get(key)?.fireAt;
  }

  #schedule(key: string, createdAt: number, fireAt: number): void {
    const timer = this.#clock.setTimer(() => {
      const p = this.#evict(key).catch((err: unknown) => log.warn('eviction failed', { pod: key, err })).finally(() => this.#deleting.delete(p));
      this.#deleting.add(p);
    }, fireAt - this.#clock.now());
    this.#scheduled.set(key, { createdAt, fireAt, timer });
  }

  #cancel(key: string, withEvent: boolean): void {
    const s = this.#scheduled.get(key);
    if (!s) return;
    s.timer.dispose();
    this.#scheduled.delete(key);
    if (withEvent) {
      const [namespace = '', name = ''] = key.split('/');
      this.#recorder.eventf({ apiVersion: 'v1', kind: 'Pod', name, namespace }, EventType.Normal, 'TaintManagerEviction', 'Cancelling deletion of Pod %s', key);
    }
  }

  /** Marks the pod as a disruption target and deletes it (addConditionAndDeletePod). */
  async #evict(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    this.#recorder.eventf({ apiVersion: 'v1', kind: 'Pod', name, namespace }, EventType.Normal, 'TaintManagerEviction', 'Marking for deletion Pod %s', key);
    const pods = this.#podClient.inNamespace(namespace);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const pod = await pods.get(name);
        const conditions = pod.status?.conditions ?? [];
        const existing = conditions.find((c) => c.type === 'DisruptionTarget');
        if (!existing || existing.status !== 'True' || existing.reason !== 'DeletionByTaintManager') {
          const cond = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: formatTime(this.#clock.now()) };
          pod.status = { ...pod.status, conditions: [...conditions.filter((c) => c.type !== 'DisruptionTarget'), cond] };
          await pods.updateStatus(pod);
        }
        await pods.delete(name);
        this.#scheduled.delete(key);
        return;
      } catch (err) {
        if (isNotFound(err)) {
          this.#scheduled.delete(key);
          return;
        }
        if (attempt === 4) throw err;
        await new Promise<void>((r) => this.#clock.setTimer(r, 10));
      }
    }
  }

  /** Resolves when the evictions already firing have finished (for tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.#deleting]);
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    for (const s of this.#scheduled.values()) s.timer.dispose();
    this.#scheduled.clear();
    this.queue.shutDown();
    await Promise.all([...this.#deleting]);
  }
}

function podKey(p: Pod): string {
  return `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
}

function noExecuteTaints(node: Node): Taint[] {
  return (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
}

registerController('taint-eviction-controller', (ctx) => new TaintEvictionController(ctx), 8);
