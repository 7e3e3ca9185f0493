// The owner/dependent graph of the garbage collector (pkg/controller/garbagecollector/graph.go):
// one node per object UID, its ownerReferences, the nodes that name it as owner, and whether it
// is being deleted (and waiting for its dependents). Virtual nodes stand for owners not yet seen.
import type { OwnerReference } from '../../api/types/meta_v1.ts';

/** Who an object is. */
export interface ObjectIdentity {
  readonly apiVersion: string;
  readonly kind: string;
  /** '' for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** One object in the graph. */
export class GraphNode {
  identity: ObjectIdentity;
  owners: OwnerReference[];
  readonly dependents = new Set<GraphNode>();
  /** True once an informer reported the object (false for virtual nodes). */
  observed: boolean;
  beingDeleted = false;
  deletingDependents = false;

  constructor(identity: ObjectIdentity, owners: OwnerReference[], observed: boolean) {
    this.identity = identity;
    this.owners = owners;
    this.observed = observed;
  }

  /** Dependents whose reference to us has blockOwnerDeletion (they hold up a foreground delete). */
  blockingDependents(): GraphNode[] {
    const out: GraphNode[] = [];
    for (const dep of this.dependents) {
      if (dep.owners.some((r) => r.uid === this.identity.uid && r.blockOwnerDeletion === true)) out.push(dep);
    }
    return out;
  }

  toString(): string {
    const i = this.identity;
    return `[${i.apiVersion}/${i.kind}, namespace: ${i.namespace}, name: ${i.name}, uid: ${i.uid}]`;
  }
}

/** Nodes by UID. */
export class Graph {
  readonly nodes = new Map<string, GraphNode>();

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  insert(n: GraphNode): void {
    this.nodes.set(n.identity.uid, n);
  }

  /** Removes `n` and its edges from its owners. */
  remove(n: GraphNode): void {
    this.nodes.delete(n.identity.uid);
    for (const ref of n.owners) this.nodes.get(ref.uid)?.dependents.delete(n);
  }
}

/** The references added, removed and changed between two ownerReferences lists (by owner UID). */
export function referencesDiffs(old: readonly OwnerReference[], cur: readonly OwnerReference[]): {
  added: OwnerReference[]; removed: OwnerReference[]; changed: { old: OwnerReference; cur: OwnerReference }[];
} {
  const oldByUid = new Map(old.map((r) => [r.uid, r]));
  const added: OwnerReference[] = [];
  const changed: { old: OwnerReference; cur: OwnerReference }[] = [];
  for (const r of cur) {
    const o = oldByUid.get(r.uid);
    if (!o) {
      added.push(r);
      continue;
    }
    oldByUid.delete(r.uid);
    if (JSON.stringify(o) !== JSON.stringify(r)) changed.push({ old: o, cur: r });
  }
  return { added, removed: [...oldByUid.values()], changed };
}

/** A small LRU of UIDs known to be absent (absentOwnerCache), so lookups are not repeated. */
export class UidCache {
  #max: number;
  #uids = new Map<string, true>();

  constructor(max: number) {
    this.#max = max;
  }

  add(uid: string): void {
    this.#uids.delete(uid);
    this.#uids.set(uid, true);
    if (this.#uids.size > this.#max) this.#uids.delete(this.#uids.keys().next().value as string);
  }

  has(uid: string): boolean {
    if (!this.#uids.has(uid)) return false;
    this.#uids.delete(uid);
    this.#uids.set(uid, true);
    return true;
  }
}
