// Empties a Terminating namespace (pkg/controller/namespace/deletion/namespaced_resources_deleter.go
// and status_condition_utils.go): deletecollection of every namespaced resource, the deletion
// conditions on the namespace, and the PUT to /finalize that drops the "kubernetes" finalizer.
import { RESOURCES, preferredVersion } from '../../api/resource_table.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { Namespace, NamespaceCondition, Pod } from '../../api/types/core_v1.ts';
import { isConflict, isMethodNotAllowed, isNotFound } from '../../client/api_errors.ts';
import { formatTime } from '../../client/clock.ts';
import type { RestClient } from '../../client/rest_client.ts';
import { discoverCustomResources } from '../../client/discovery.ts';
import type { KubeList, KubeObject } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import { errMessage } from '../controller_utils.ts';

/** The finalizer this controller owns in spec.finalizers. */
export const FINALIZER_KUBERNETES = 'kubernetes';
/** Seconds to wait for objects held by finalizers (finalizerEstimateSeconds). */
const FINALIZER_ESTIMATE_SECONDS = 5;

/** Content remains; look again after about `estimate` seconds. */
export class ResourcesRemainingError extends Error {
  readonly estimate: number;
  constructor(estimate: number) {
    super(`some content remains in the namespace, estimate ${estimate} seconds before it is removed`);
    this.name = 'ResourcesRemainingError';
    this.estimate = estimate;
  }
}

/** API operations of the deleter (seam for unit tests). */
export interface NamespaceDeleterClient {
  getNamespace(name: string): Promise<Namespace>;
  updateNamespaceStatus(ns: Namespace): Promise<Namespace>;
  finalizeNamespace(ns: Namespace): Promise<Namespace>;
  /** false when the resource has no deletecollection. */
  deleteCollection(r: ResourceInfo, namespace: string): Promise<boolean>;
  list(r: ResourceInfo, namespace: string): Promise<KubeObject[]>;
  delete(r: ResourceInfo, namespace: string, name: string): Promise<void>;
  /** Namespaced resources discovery adds to the built-in table (custom resources); none when absent. */
  discover?(): Promise<ResourceInfo[]>;
}

/**
 * The namespaced, deletable resources of groups the built-in table does not know (custom
 * resources), from discovery (upstream's deleter asks discovery for everything; built-ins come from
 * the table here).
 */
export async function discoverNamespacedCustomResources(client: RestClient): Promise<ResourceInfo[]> {
  return (await discoverCustomResources(client)).filter((r) => r.namespaced && r.verbs.includes('delete'));
}

const NAMESPACES = resourceDescriptor('v1', 'namespaces');

export function restNamespaceDeleterClient(client: RestClient): NamespaceDeleterClient {
  const nss = client.resource<Namespace>(NAMESPACES);
  return {
    getNamespace: (name) => nss.get(name),
    updateNamespaceStatus: (ns) => nss.updateStatus(ns),
    finalizeNamespace: (ns) => nss.updateSubresource<Namespace>(ns.metadata?.name ?? '', 'finalize', ns),
    async deleteCollection(r, ns) {
      try {
        await client.resource(r, ns).deleteCollection({ propagationPolicy: 'Background' });
        return true;
      } catch (err) {
        if (isMethodNotAllowed(err) || isNotFound(err)) return false;
        throw err;
      }
    },
    async list(r, ns) {
      const l: KubeList<KubeObject> = await client.resource(r, ns).list();
      return l.items;
    },
    async delete(r, ns, name) {
      await client.resource(r, ns).delete(name, { propagationPolicy: 'Background' });
    },
    discover: () => discoverNamespacedCustomResources(client),
  };
}

/** Namespaced resources that can be deleted, at their preferred versions (ServerPreferredNamespacedResources). */
export function deletableNamespacedResources(): ResourceInfo[] {
  return RESOURCES.filter((r) => r.namespaced && r.version === preferredVersion(r.group) && r.verbs.includes('delete'));
}

const CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;

const OK: Readonly<Record<string, { reason: string; message: string }>> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
};

/** Merges failure conditions (others get their "ok" variant) into status; true when anything changed. */
export function updateConditions(ns: Namespace, failures: readonly NamespaceCondition[], nowMs: number): boolean {
  ns.status ??= {};
  const conds = ns.status.conditions ?? [];
  let changed = false;
  for (const type of CONDITION_TYPES) {
    const next = failures.find((c) => c.type === type) ?? { type, status: 'False', lastTransitionTime: formatTime(nowMs), ...OK[type]! };
    const old = conds.find((c) => c.type === type);
    if (!old) {
      conds.push({ ...next });
      changed = true;
    } else if (old.status !== next.status || old.message !== next.message || old.reason !== next.reason) {
      if (old.status !== next.status) old.lastTransitionTime = formatTime(nowMs);
      old.status = next.status;
      if (next.reason !== undefined) old.reason = next.reason;
      if (next.message !== undefined) old.message = next.message;
      changed = true;
    }
  }
  ns.status.conditions = conds;
  return changed;
}

function groupResource(r: ResourceInfo): string {
  return `${r.resource}.${r.group}`;
}

/** Deletes a namespace's content and finalizes it. */
export class NamespacedResourcesDeleter {
  #client: NamespaceDeleterClient;
  #resources: () => ResourceInfo[];
  #now: () => number;

  constructor(client: NamespaceDeleterClient, now: () => number, resources: () => ResourceInfo[] = deletableNamespacedResources) {
    this.#client = client;
    this.#now = now;
    this.#resources = resources;
  }

  /** Throws ResourcesRemainingError while content remains. */
  async delete(name: string): Promise<void> {
    let ns: Namespace;
    try {
      ns = await this.#client.getNamespace(name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata?.deletionTimestamp) return;
    try {
      ns = await this.#retryOnConflict(ns, async (n) => {
        if (n.status?.phase === 'Terminating') return n;
        return this.#client.updateNamespaceStatus({ ...n, status: { ...n.status, phase: 'Terminating' } });
      });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata?.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;
    const estimate = await this.deleteAllContent(ns);
    if (estimate > 0) throw new ResourcesRemainingError(estimate);
    try {
      await this.#retryOnConflict(ns, (n) => this.#client.finalizeNamespace({
        ...n, spec: { ...n.spec, finalizers: [...new Set((n.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES))].sort() },
      }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  async #retryOnConflict(ns: Namespace, fn: (n: Namespace) => Promise<Namespace>): Promise<Namespace> {
    let cur = ns;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(cur);
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw err;
        cur = await this.#client.getNamespace(ns.metadata?.name ?? '');
      }
    }
  }

  /** Deletes everything; returns seconds until content is expected gone (0: empty). */
  async deleteAllContent(ns: Namespace): Promise<number> {
    const name = ns.metadata?.name ?? '';
    const errors: string[] = [];
    let estimate = 0;
    const remaining: string[] = [];
    const byFinalizer = new Map<string, number>();
    let discovered: ResourceInfo[] = [];
    try {
      discovered = (await this.#client.discover?.()) ?? [];
    } catch (err) {
      errors.push(`failed to discover custom resources: ${errMessage(err)}`);
    }
    for (const r of [...this.#resources(), ...discovered]) {
      try {
        const res = await this.#deleteAllContentForResource(r, name);
        estimate = Math.max(estimate, res.estimate);
        if (res.remaining > 0) {
          remaining.push(`${groupResource(r)} has ${res.remaining} resource instances`);
          for (const [f, n] of res.finalizers) byFinalizer.set(f, (byFinalizer.get(f) ?? 0) + n);
        }
      } catch (err) {
        errors.push(errMessage(err));
        if (err instanceof RemainingWithError) estimate = Math.max(estimate, err.estimate);
      }
    }
    const now = this.#now();
    const failures: NamespaceCondition[] = [];
    const t = formatTime(now);
    if (remaining.length > 0) {
      failures.push({ type: 'NamespaceContentRemaining', status: 'True', lastTransitionTime: t, reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.sort().join(', ')}` });
    }
    if (byFinalizer.size > 0) {
      const parts = [...byFinalizer].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      failures.push({ type: 'NamespaceFinalizersRemaining', status: 'True', lastTransitionTime: t, reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${parts.join(', ')}` });
    }
    if (errors.length > 0) {
      errors.sort();
      failures.push({ type: 'NamespaceDeletionContentFailure', status: 'True', lastTransitionTime: t, reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${errors.length} remaining: ${errors.join(', ')}` });
    }
    if (updateConditions(ns, failures, now)) {
      try {
        Object.assign(ns, await this.#client.updateNamespaceStatus(ns));
      } catch { /* conditions are informational; the next pass writes them */ }
    }
    if (errors.length > 0) throw new Error(errors.join(', '));
    return estimate;
  }

  async #deleteAllContentForResource(r: ResourceInfo, ns: string): Promise<{ estimate: number; remaining: number; finalizers: Map<string, number> }> {
    const estimate = r.group === '' && r.resource === 'pods' ? await this.#estimateForPods(ns) : 0;
    try {
      const supported = r.verbs.includes('deletecollection') && await this.#client.deleteCollection(r, ns);
      if (!supported) {
        if (!r.verbs.includes('list')) return { estimate, remaining: 0, finalizers: new Map() };
        for (const item of await this.#client.list(r, ns)) {
          try {
            await this.#client.delete(r, ns, item.metadata?.name ?? '');
          } catch (err) {
            if (!isNotFound(err) && !isMethodNotAllowed(err)) throw err;
          }
        }
      }
    } catch (err) {
      throw new RemainingWithError(errMessage(err), estimate);
    }
    if (!r.verbs.includes('list')) return { estimate, remaining: 0, finalizers: new Map() };
    const items = await this.#client.list(r, ns);
    const finalizers = new Map<string, number>();
    for (const it of items) for (const f of it.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    if (estimate !== 0) return { estimate, remaining: items.length, finalizers };
    if (finalizers.size > 0) return { estimate: FINALIZER_ESTIMATE_SECONDS, remaining: items.length, finalizers };
    if (items.length > 0) throw new RemainingWithError(`unexpected items still remain in namespace: ${ns} for gvr: ${r.group}/${r.version}, Resource=${r.resource}`, estimate);
    return { estimate, remaining: 0, finalizers };
  }

  /** The longest termination grace period of the namespace's unfinished pods. */
  async #estimateForPods(ns: string): Promise<number> {
    const pods = await this.#client.list(resourceByName('', 'pods'), ns) as Pod[];
    let estimate = 0;
    for (const p of pods) {
      const phase = p.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const grace = p.spec?.terminationGracePeriodSeconds;
      if (typeof grace === 'number' && grace > estimate) estimate = grace;
    }
    return estimate;
  }
}

/** A per-resource failure that still carries the time estimate. */
class RemainingWithError extends Error {
  readonly estimate: number;
  constructor(message: string, estimate: number) {
    super(message);
    this.estimate = estimate;
  }
}

function resourceByName(group: string, resource: string): ResourceInfo {
  const r = RESOURCES.find((x) => x.group === group && x.resource === resource && x.version === preferredVersion(group));
  if (!r) throw new Error(`no resource ${resource}`);
  return r;
}
