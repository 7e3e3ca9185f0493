// The pods bound to this node, as the API server says (the kubelet's pod manager fed by its
// apiserver config source): an informer on pods with fieldSelector spec.nodeName=<node>, looked up
// by UID or by namespace/name, telling a listener which pod UID changed.
import type { Pod } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { DeletedFinalStateUnknown } from '../client/store.ts';
import type { SharedInformerFactory } from '../client/informer_factory.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { HandlerRegistration, SharedIndexInformer } from '../client/shared_informer.ts';

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
  /** The last state of pods deleted from the API server, until their removal is done. */
  readonly #removed = new Map<string, Pod>();
  readonly #registration: HandlerRegistration;

  /** `onChange` hears the UID of every pod added, updated or deleted. */
  constructor(factory: SharedInformerFactory, nodeName: string, onChange: (uid: string) => void) {
    this.informer = factory.informerFor<Pod>(resourceDescriptor('v1', 'pods'), { fieldSelector: `spec.nodeName=${nodeName}` });
    const set = (pod: Pod): void => {
      const uid = pod.metadata?.uid ?? '';
      this.#byUid.set(uid, pod);
      onChange(uid);
    };
    this.#registration = this.informer.addEventHandler({
      onAdd: (pod) => set(pod),
      onUpdate: (old, pod) => {
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
    return this.#byUid.get(uid);
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
    return this.informer.lister.get(namespace, name);
  }

  all(): Pod[] {
    return [...this.#byUid.values()];
  }

  dispose(): void {
    this.#registration.dispose();
  }
}
