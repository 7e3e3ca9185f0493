// Mirror pods (pkg/kubelet/pod/mirror_client.go): the API copy of each static pod, annotated with its
// hash and owned by the Node; created when missing, replaced when stale or being deleted, deleted
// when the static pod goes. Failures (an API server away) are retried on the next sync.
import type { Pod } from '../api/types/core_v1.ts';
import { logger } from '../base/log.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../client/api_errors.ts';
import type { ResourceClient } from '../client/resource_client.ts';
import { CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION, isMirrorPodOf } from './static_pods.ts';

const log = logger('mirror-pods');

/** Options of MirrorPods. */
export interface MirrorPodsOptions {
  /** pods, across namespaces. */
  readonly pods: ResourceClient<Pod>;
  readonly nodeName: string;
  /** The Node's UID (undefined until registered) and whether it is being deleted. */
  readonly node: () => { uid: string; deleting: boolean } | undefined;
  /** The mirror pod the API has for a static pod's namespace/name (from the pod informer). */
  readonly mirrorOf: (namespace: string, name: string) => Pod | undefined;
  /** Told when a mirror was created (its status must be written again). */
  readonly onCreated?: (staticPod: Pod) => void;
}

/** The mirror pod to create for a static pod (CreateMirrorPod's copy). */
export function mirrorPodFor(pod: Pod, nodeName: string, nodeUid: string): Pod {
  const copy = structuredClone(pod);
  const md = copy.metadata ?? {};
  const hash = pod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] ?? '';
  copy.metadata = {
    ...md,
    annotations: { ...md.annotations, [CONFIG_MIRROR_ANNOTATION]: hash },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid, controller: true }],
  };
  // the API server assigns its own
  delete copy.metadata.uid;
  delete copy.metadata.resourceVersion;
  delete copy.metadata.creationTimestamp;
  delete copy.status;
  return copy;
}

/** Keeps mirror pods in line with static pods. */
export class MirrorPods {
  readonly #o: MirrorPodsOptions;
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(opts: MirrorPodsOptions) {
    this.#o = opts;
  }

  /** Makes sure the static pod has its current mirror; never throws. */
  sync(pod: Pod): Promise<void> {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    let p = this.#inFlight.get(key);
    if (!p) {
      p = this.#sync(pod).catch((err: unknown) => {
        log.warn('syncing a mirror pod failed; retrying on the next sync', { pod: key, err: err instanceof Error ? err.message : String(err) });
      }).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, p);
    }
    return p;
  }

  async #sync(pod: Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const mirror = this.#o.mirrorOf(ns, name);
    let deleted = false;
    if (mirror && (mirror.metadata?.deletionTimestamp || !isMirrorPodOf(mirror, pod))) {
      log.info('deleting a mirror pod that is stale or being deleted', { pod: `${ns}/${name}` });
      deleted = await this.#delete(ns, name, mirror.metadata?.uid);
    }
    if (mirror && !deleted) return;
    const node = this.#o.node();
    if (!node) throw new Error('the node is not registered yet');
    if (node.deleting) {
      log.info('no mirror pod while the node is being deleted', { pod: `${ns}/${name}` });
      return;
    }
    try {
      await this.#o.pods.inNamespace(ns).create(mirrorPodFor(pod, this.#o.nodeName, node.uid));
      log.info('created a mirror pod', { pod: `${ns}/${name}` });
      this.#o.onCreated?.(pod);
    } catch (err) {
      // one with the same hash is ours already
      if (!isAlreadyExists(err)) throw err;
    }
  }

  /** Deletes the mirror of a static pod that is gone (DeleteMirrorPod); never throws. */
  async delete(pod: Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const mirror = this.#o.mirrorOf(ns, name);
    // a mirror of another version of the pod (its file changed) belongs to that one
    if (!mirror || !isMirrorPodOf(mirror, pod)) return;
    try {
      await this.#delete(ns, name, mirror.metadata?.uid);
    } catch (err) {
      log.warn('deleting a mirror pod failed', { pod: `${ns}/${name}`, err: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Deletes a mirror pod whose static pod is gone; never throws. */
  async deleteOrphan(mirror: Pod): Promise<void> {
    const ns = mirror.metadata?.namespace ?? 'default';
    const name = mirror.metadata?.name ?? '';
    log.info('deleting an orphaned mirror pod', { pod: `${ns}/${name}` });
    try {
      await this.#delete(ns, name, mirror.metadata?.uid);
    } catch (err) {
      log.warn('deleting an orphaned mirror pod failed', { pod: `${ns}/${name}`, err: err instanceof Error ? err.message : String(err) });
    }
  }

  async #delete(ns: string, name: string, uid: string | undefined): Promise<boolean> {
    try {
      await this.#o.pods.inNamespace(ns).delete(name, { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) });
      return true;
    } catch (err) {
      if (isNotFound(err)) return true;
      if (isConflict(err)) return false;
      throw err;
    }
  }
}
