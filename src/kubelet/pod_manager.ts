// The pods bound to this node, as the API server says (the kubelet's pod manager fed by its
// apiserver config source): an informer on pods with fieldSelector spec.nodeName=<node>, looked up
// by UID or by namespace/name, telling a listener which pod UID changed. Static pods from files sit
// beside them; mirror pods are the API's copies of those and are never run themselves.
import type { Pod } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { DeletedFinalStateUnknown } from '../client/store.ts';
import type { SharedInformerFactory } from '../client/informer_factory.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { HandlerRegistration, SharedIndexInformer } from '../client/shared_informer.ts';
import { isMirrorPod } from './static_pods.ts';

/** Whether a pod changed in what the kubelet acts on (upstream's podsDifferSemantically), not just its status. */
export function differsSemantically(a: Pod, b: Pod): boolean {
  const pick = (p: Pod): unknown => [
    p.spec, p.metadata?.labels, p.metadata?.annotations, p.metadata?.deletionTimestamp,
    p.metadata?.deletionGracePeriodSeconds, p.metadata?.uid,
  ];
  return JSON.stringify(pick(a)) !== JSON.stringify(pick(b));
}

/** The node's pods. */
export class PodManager implements Disposable {
  readonly informer: SharedIndexInformer<Pod>;
  readonly #byUid = new Map<string, Pod>();
  /** Static pods by UID (from files, not the API). */
  readonly #static = new Map<string, Pod>();
  /** The last state of pods deleted from the API server, until their removal is done. */
  readonly #removed = new Map<string, Pod>();
  readonly #registration: HandlerRegistration;
  readonly #onChange: (uid: string) => void;

  /** `onChange` hears the UID of every pod added, updated or deleted. */
  constructor(factory: SharedInformerFactory, nodeName: string, onChange: (uid: string) => void) {
    this.informer = factory.informerFor<Pod>(resourceDescriptor('v1', 'pods'), { fieldSelector: `spec.nodeName=${nodeName}` });
    // a mirror pod changing concerns its static pod (recreate it, write status to it)
    const mirror = (pod: Pod): boolean => {
      if (!isMirrorPod(pod)) return false;
      const s = this.#staticByName(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
      if (s) onChange(s.metadata?.uid ?? '');
      return true;
    };
    this.#onChange = onChange;
    const set = (pod: Pod): void => {
      if (mirror(pod)) return;
      const uid = pod.metadata?.uid ?? '';
      this.#byUid.set(uid, pod);
      onChange(uid);
    };
    this.#registration = this.informer.addEventHandler({
      onAdd: (pod) => set(pod),
      onUpdate: (old, pod) => {
        if (mirror(pod)) return;
        const oldUid = old.metadata?.uid ?? '';
        // the same name with another UID is another pod: the old one is gone
        if (oldUid !== (pod.metadata?.uid ?? '')) {
          this.#byUid.delete(oldUid);
          this.#removed.set(oldUid, old);
          onChange(oldUid);
        }
        this.#byUid.set(pod.metadata?.uid ?? '', pod);
        // the kubelet's own status writes come back as updates: only other changes need a sync
        if (differsSemantically(old, pod)) onChange(pod.metadata?.uid ?? '');
      },
      onDelete: (obj) => {
        const pod = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
        if (mirror(pod)) return;
        const uid = pod.metadata?.uid ?? '';
        this.#byUid.delete(uid);
        this.#removed.set(uid, pod);
        onChange(uid);
      },
    });
  }

  /** True once the first list arrived (before that, no runtime pod may be called an orphan). */
  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  get(uid: string): Pod | undefined {
    return this.#byUid.get(uid) ?? this.#static.get(uid);
  }

  /** Replaces the static pods: new and changed ones sync, vanished ones are removed. */
  setStaticPods(pods: readonly Pod[]): void {
    const next = new Map(pods.map((p) => [p.metadata?.uid ?? '', p]));
    for (const [uid, old] of this.#static) {
      if (next.has(uid)) continue;
      this.#static.delete(uid);
      this.#removed.set(uid, old);
      this.#onChange(uid);
    }
    for (const [uid, pod] of next) {
      if (this.#static.get(uid) === pod) continue;
      this.#static.set(uid, pod);
      this.#onChange(uid);
    }
  }

  /** The mirror pod the API has under this namespace/name, if any. */
  mirrorPod(namespace: string, name: string): Pod | undefined {
    const p = this.informer.lister.get(namespace, name);
    return p && isMirrorPod(p) ? p : undefined;
  }

  /** Mirror pods whose static pod is gone (deleteOrphanedMirrorPods). */
  orphanedMirrorPods(): Pod[] {
    return this.informer.lister.list().filter((p) => isMirrorPod(p) && !this.#staticByName(p.metadata?.namespace ?? '', p.metadata?.name ?? ''));
  }

  #staticByName(namespace: string, name: string): Pod | undefined {
    for (const p of this.#static.values()) if (p.metadata?.namespace === namespace && p.metadata?.name === name) return p;
    return undefined;
  }

  /** The last state of a pod deleted from the API server whose removal is not done. */
  removed(uid: string): Pod | undefined {
    return this.#removed.get(uid);
  }

  /** Done removing a deleted pod. */
  forgetRemoved(uid: string): void {
    this.#removed.delete(uid);
  }

  getByName(namespace: string, name: string): Pod | undefined {
    const p = this.#staticByName(namespace, name) ?? this.informer.lister.get(namespace, name);
    return p && !isMirrorPod(p) ? p : undefined;
  }

  all(): Pod[] {
    return [...this.#byUid.values(), ...this.#static.values()];
  }

  dispose(): void {
    this.#registration.dispose();
  }
}
