// The active pods of each controller owner, grouped by namespace and label set, kept current from the
// pod cache's change feed. A ReplicaSet's pods nearly all share one label set, so a sync decides
// selector matches and counts ready pods per group instead of walking thousands of pods each time.
import type { Pod } from '../../api/types/core_v1.ts';
import type { Disposable } from '../../base/disposable.ts';
import type { Indexer } from '../../client/indexer.ts';
import { controllerRefOf } from '../../client/indexer.ts';
import { isPodActive, isPodReady } from '../controller_utils.ts';

/** Active pods with the same controller, namespace and labels. */
export interface PodGroup {
  readonly namespace: string;
  /** The labels every pod of the group carries (those of its first pod). */
  readonly labels: Readonly<Record<string, string>>;
  /** Pods by cache key, in the order they joined. */
  readonly pods: ReadonlyMap<string, Pod>;
  /** How many of them are Ready. */
  readonly ready: number;
}

interface Group extends PodGroup {
  readonly pods: Map<string, Pod>;
  ready: number;
}

interface Entry {
  readonly owner: string;
  readonly groupKey: string;
  readonly group: Group;
  readonly ready: boolean;
}

/** Active pods by controller UID and label set (only pods with a controller; inactive ones are left out). */
export class ControlledPods implements Disposable {
  #indexer: Indexer<Pod>;
  #entries = new Map<string, Entry>();
  /** controller UID → group key → group */
  #owners = new Map<string, Map<string, Group>>();
  #subscription: { dispose(): void };

  constructor(indexer: Indexer<Pod>) {
    this.#indexer = indexer;
    this.#rebuild();
    this.#subscription = indexer.subscribe({
      onChange: (key, _old, pod) => this.#set(key, pod),
      onReplace: () => this.#rebuild(),
    });
  }

  /** The groups of active pods whose controller has `uid`. */
  groups(uid: string): Iterable<PodGroup> {
    return this.#owners.get(uid)?.values() ?? [];
  }

  /** The group `key`'s pod is counted in, if it is. */
  groupOf(key: string): PodGroup | undefined {
    return this.#entries.get(key)?.group;
  }

  dispose(): void {
    this.#subscription.dispose();
  }

  #rebuild(): void {
    this.#entries.clear();
    this.#owners.clear();
    for (const key of this.#indexer.listKeys()) this.#set(key, this.#indexer.getByKey(key));
  }

  #set(key: string, pod: Pod | undefined): void {
    const prev = this.#entries.get(key);
    // Most updates (bound, started, ready) keep the pod in its group: only the ready count moves.
    if (prev && pod !== undefined && isPodActive(pod) && controllerRefOf(pod)?.uid === prev.owner &&
      (pod.metadata?.namespace ?? '') === prev.group.namespace && sameLabels(pod.metadata?.labels ?? {}, prev.group.labels)) {
      const ready = isPodReady(pod);
      if (ready !== prev.ready) prev.group.ready += ready ? 1 : -1;
      prev.group.pods.set(key, pod);
      if (ready !== prev.ready) this.#entries.set(key, { ...prev, ready });
      return;
    }
    if (prev) {
      this.#entries.delete(key);
      prev.group.pods.delete(key);
      if (prev.ready) prev.group.ready--;
      if (prev.group.pods.size === 0) {
        const groups = this.#owners.get(prev.owner)!;
        groups.delete(prev.groupKey);
        if (groups.size === 0) this.#owners.delete(prev.owner);
      }
    }
    if (pod === undefined || !isPodActive(pod)) return;
    const ref = controllerRefOf(pod);
    if (!ref) return;
    const namespace = pod.metadata?.namespace ?? '';
    const labels = pod.metadata?.labels ?? {};
    const groupKey = labelSetKey(namespace, labels);
    let groups = this.#owners.get(ref.uid);
    if (!groups) this.#owners.set(ref.uid, groups = new Map());
    let group = groups.get(groupKey);
    if (!group) groups.set(groupKey, group = { namespace, labels, pods: new Map(), ready: 0 });
    const ready = isPodReady(pod);
    group.pods.set(key, pod);
    if (ready) group.ready++;
    this.#entries.set(key, { owner: ref.uid, groupKey, group, ready });
  }
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  return n === Object.keys(b).length;
}

/** Namespace and labels in one string, the same for equal label sets whatever their key order. */
function labelSetKey(namespace: string, labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  return JSON.stringify([namespace, ...keys.map((k) => [k, labels[k]])]);
}
