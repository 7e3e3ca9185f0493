// Builds the garbage collector's graph (pkg/controller/garbagecollector/graph_builder.go): one
// metadata-only informer per deletable built-in resource, each event applied to the graph at once
// (pure memory work), and nodes that need attention handed to the delete and orphan queues.
import type { ResourceInfo } from '../../api/resource_types.ts';
import { RESOURCES, preferredVersion } from '../../api/resource_table.ts';
import type { ObjectMeta, OwnerReference } from '../../api/types/meta_v1.ts';
import type { Disposable } from '../../base/disposable.ts';
import type { Clock } from '../../client/clock.ts';
import { listerWatcherFor } from '../../client/informer_factory.ts';
import type { RestClient } from '../../client/rest_client.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import { apiVersionOf, groupResourceOf } from '../../client/resource_descriptor.ts';
import { SharedIndexInformer, waitForCacheSync } from '../../client/shared_informer.ts';
import { unwrapTombstone } from '../../client/store.ts';
import { Graph, GraphNode, UidCache, referencesDiffs, type ObjectIdentity } from './graph.ts';

export const FinalizerOrphanDependents = 'orphan';
export const FinalizerDeleteDependents = 'foregroundDeletion';

/** Where the builder sends nodes. */
export interface GraphSink {
  attemptToDelete(n: GraphNode): void;
  attemptToOrphan(n: GraphNode): void;
}

/** Resources the collector watches: preferred versions that can be listed, watched and deleted, events excepted. */
export function monitoredResources(): ResourceInfo[] {
  return RESOURCES.filter((r) => r.version === preferredVersion(r.group) &&
    ['list', 'watch', 'delete'].every((v) => r.verbs.includes(v)) &&
    !(r.resource === 'events' && (r.group === '' || r.group === 'events.k8s.io')));
}

/** Keeps only what the collector reads, so the caches stay small. */
function metadataOnly(info: ResourceInfo): (obj: KubeObject) => KubeObject {
  const apiVersion = apiVersionOf(info);
  return (obj) => {
    const m: ObjectMeta = obj.metadata ?? {};
    const md: ObjectMeta = { name: m.name ?? '', uid: m.uid ?? '' };
    if (m.namespace) md.namespace = m.namespace;
    if (m.resourceVersion) md.resourceVersion = m.resourceVersion;
    if (m.ownerReferences) md.ownerReferences = m.ownerReferences;
    if (m.finalizers) md.finalizers = m.finalizers;
    if (m.deletionTimestamp) md.deletionTimestamp = m.deletionTimestamp;
    return { apiVersion, kind: info.kind, metadata: md };
  };
}

function hasFinalizer(obj: KubeObject | undefined, f: string): boolean {
  return obj?.metadata?.finalizers?.includes(f) ?? false;
}

/** The deletion started (now, or since `old`) with finalizer `f` present. */
function deletionStartsWithFinalizer(old: KubeObject | undefined, cur: KubeObject, f: string): boolean {
  if (!cur.metadata?.deletionTimestamp || !hasFinalizer(cur, f)) return false;
  if (!old) return true;
  return !old.metadata?.deletionTimestamp || !hasFinalizer(old, f);
}

export function identityOf(obj: KubeObject): ObjectIdentity {
  const m = obj.metadata ?? {};
  return { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', namespace: m.namespace ?? '', name: m.name ?? '', uid: m.uid ?? '' };
}

/** The graph and the informers feeding it. */
export class GraphBuilder implements Disposable {
  readonly graph = new Graph();
  readonly absentOwnerCache = new UidCache(500);
  #sink: GraphSink;
  #informers: SharedIndexInformer<KubeObject>[] = [];
  /** Informers by "group/resource", to add and drop monitors as discovery changes. */
  #monitors = new Map<string, SharedIndexInformer<KubeObject>>();
  #started = false;
  /** Called when a CustomResourceDefinition changes (the collector resyncs its monitors from discovery). */
  onCrdChange: (() => void) | undefined;

  constructor(sink: GraphSink) {
    this.#sink = sink;
  }

  /** Creates one informer per resource (not started). */
  monitor(client: RestClient, clock: Clock, resources: readonly ResourceInfo[] = monitoredResources()): void {
    for (const info of resources) {
      const key = `${info.group}/${info.resource}`;
      if (this.#monitors.has(key)) continue;
      const rc = client.resource<KubeObject>(info);
      const inf = new SharedIndexInformer<KubeObject>(listerWatcherFor(rc), {
        name: `gc:${groupResourceOf(info)}`,
        apiVersion: apiVersionOf(info),
        kind: info.kind,
        transform: metadataOnly(info),
        clock,
      });
      inf.addEventHandler({
        onAdd: (obj) => this.processEvent('add', obj),
        onUpdate: (old, cur) => this.processEvent('update', cur, old),
        onDelete: (obj) => this.processEvent('delete', unwrapTombstone(obj)),
      });
      this.#informers.push(inf);
      this.#monitors.set(key, inf);
      if (this.#started) inf.run();
    }
  }

  /**
   * Monitors `wanted` custom resources (resyncMonitors): new ones start watching, ones no longer
   * served stop. Built-in monitors are left alone.
   */
  async syncCustomMonitors(client: RestClient, clock: Clock, wanted: readonly ResourceInfo[], builtin: ReadonlySet<string>): Promise<void> {
    const keep = new Set(wanted.map((r) => `${r.group}/${r.resource}`));
    for (const [key, inf] of this.#monitors) {
      if (builtin.has(key) || keep.has(key)) continue;
      this.#monitors.delete(key);
      this.#informers = this.#informers.filter((i) => i !== inf);
      await inf.dispose();
    }
    this.monitor(client, clock, wanted);
  }

  start(): void {
    this.#started = true;
    for (const i of this.#informers) i.run();
  }

  waitForSync(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return waitForCacheSync(this.#informers, timeoutMs, signal);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.#informers.map((i) => i.dispose()));
  }

  /** Applies one informer event to the graph (processGraphChanges). */
  processEvent(type: 'add' | 'update' | 'delete', obj: KubeObject, old?: KubeObject): void {
    if (obj.kind === 'CustomResourceDefinition' && obj.apiVersion?.startsWith('apiextensions.k8s.io/')) this.onCrdChange?.();
    const uid = obj.metadata?.uid;
    if (!uid) return;
    let existing = this.graph.get(uid);
    if (existing && !existing.observed) {
      // A virtual node turned out to be real.
      existing.observed = true;
      existing.identity = identityOf(obj);
    }
    const owners = [...(obj.metadata?.ownerReferences ?? [])];
    if (type !== 'delete' && !existing) {
      const n = new GraphNode(identityOf(obj), owners, true);
      n.beingDeleted = Boolean(obj.metadata?.deletionTimestamp);
      n.deletingDependents = n.beingDeleted && hasFinalizer(obj, FinalizerDeleteDependents);
      this.graph.insert(n);
      this.#addDependentToOwners(n, owners);
      this.#processTransitions(old, obj, n);
      return;
    }
    if (type !== 'delete' && existing) {
      const { added, removed, changed } = referencesDiffs(existing.owners, owners);
      if (added.length + removed.length + changed.length > 0) {
        // Owners we stopped blocking may finish their foreground deletion now.
        this.#addUnblockedOwnersToDeleteQueue(removed, changed);
        existing.owners = owners;
        this.#addDependentToOwners(existing, added);
        for (const r of removed) this.graph.get(r.uid)?.dependents.delete(existing);
      }
      if (obj.metadata?.deletionTimestamp) existing.beingDeleted = true;
      this.#processTransitions(old, obj, existing);
      return;
    }
    if (!existing) return;
    this.graph.remove(existing);
    if (existing.dependents.size === 0) this.absentOwnerCache.add(existing.identity.uid);
    for (const dep of existing.dependents) this.#sink.attemptToDelete(dep);
    for (const ref of existing.owners) {
      const owner = this.graph.get(ref.uid);
      if (owner?.deletingDependents) this.#sink.attemptToDelete(owner);
    }
  }

  /**
   * An owner looked up through the API is gone (or replaced): drop its node if still virtual (or
   * the UID still matches) and let its dependents be reconsidered.
   */
  virtualDelete(identity: ObjectIdentity): void {
    const n = this.graph.get(identity.uid);
    if (!n) return;
    if (n.observed) {
      // The real object exists in our caches: a stale lookup, nothing to remove.
      return;
    }
    this.graph.remove(n);
    this.absentOwnerCache.add(identity.uid);
    for (const dep of n.dependents) this.#sink.attemptToDelete(dep);
  }

  #addDependentToOwners(n: GraphNode, owners: readonly OwnerReference[]): void {
    for (const ref of owners) {
      let owner = this.graph.get(ref.uid);
      if (!owner) {
        // An owner we have not seen: a virtual node the collector verifies through the API.
        owner = new GraphNode({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: n.identity.namespace, name: ref.name, uid: ref.uid }, [], false);
        this.graph.insert(owner);
        this.#sink.attemptToDelete(owner);
      }
      owner.dependents.add(n);
    }
  }

  #addUnblockedOwnersToDeleteQueue(removed: readonly OwnerReference[], changed: readonly { old: OwnerReference; cur: OwnerReference }[]): void {
    for (const r of removed) {
      if (r.blockOwnerDeletion !== true) continue;
      const owner = this.graph.get(r.uid);
      if (owner?.deletingDependents) this.#sink.attemptToDelete(owner);
    }
    for (const c of changed) {
      if (c.old.blockOwnerDeletion === true && c.cur.blockOwnerDeletion !== true) {
        const owner = this.graph.get(c.cur.uid);
        if (owner?.deletingDependents) this.#sink.attemptToDelete(owner);
      }
    }
  }

  #processTransitions(old: KubeObject | undefined, cur: KubeObject, n: GraphNode): void {
    if (deletionStartsWithFinalizer(old, cur, FinalizerOrphanDependents)) {
      this.#sink.attemptToOrphan(n);
      return;
    }
    if (deletionStartsWithFinalizer(old, cur, FinalizerDeleteDependents)) {
      n.deletingDependents = true;
      n.beingDeleted = true;
      for (const dep of n.dependents) this.#sink.attemptToDelete(dep);
      this.#sink.attemptToDelete(n);
    }
  }
}
