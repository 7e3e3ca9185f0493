// pods/eviction (`kubectl drain`): deletes a pod unless that would violate a PodDisruptionBudget,
// as upstream's EvictionREST: 429 with a DisruptionBudget cause when no disruption is allowed,
// otherwise the budget's disruptionsAllowed is spent (status write) and the pod deleted.
import { labelSelectorAsSelector, matches } from '../../api/labels.ts';
import { resourceFor } from '../../api/resource_table.ts';
import { ApiError, newBadRequest, newNotFound } from '../errors.ts';
import { readBody, writeJSON } from '../http_util.ts';
import type { DeleteOptions, GenericStore } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';
import { rfc3339 } from '../registry/object_meta.ts';
import type { HandlerContext } from './context.ts';

const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

function tooMany(cause: string): ApiError {
  return new ApiError(429, 'TooManyRequests', VIOLATION, { causes: [{ reason: 'DisruptionBudget', message: cause }] });
}

/** POST …/pods/NAME/eviction */
export async function handleEviction(ctx: HandlerContext, pdbStore: () => GenericStore): Promise<void> {
  const body = await readBody(ctx.req);
  const eviction = ctx.services.decodeBody(ctx.req, body, { ...ctx.info, kind: 'Eviction', group: 'policy', version: 'v1', definition: 'io.k8s.api.policy.v1.Eviction' });
  const em = (eviction['metadata'] ?? {}) as Record<string, unknown>;
  if (typeof em['name'] === 'string' && em['name'] !== '' && em['name'] !== ctx.ri.name) {
    throw newBadRequest(`name in URL does not match name in Eviction object`);
  }
  const opts = (eviction['deleteOptions'] ?? {}) as Record<string, unknown>;
  const deleteOptions: DeleteOptions = {
    gracePeriodSeconds: typeof opts['gracePeriodSeconds'] === 'number' ? opts['gracePeriodSeconds'] : undefined,
    propagationPolicy: opts['propagationPolicy'] as DeleteOptions['propagationPolicy'],
    preconditions: opts['preconditions'] as DeleteOptions['preconditions'],
    dryRun: Array.isArray(opts['dryRun']) && (opts['dryRun'] as unknown[]).includes('All'),
    user: ctx.user, warnings: ctx.warnings,
  };
  const pod = await ctx.store.get(ctx.ri.namespace, ctx.ri.name);
  const phase = ((pod['status'] ?? {}) as Record<string, unknown>)['phase'];
  // Pods that are not running cannot disrupt anything: no budget applies (upstream's canIgnorePDB).
  const pm = (pod['metadata'] ?? {}) as Record<string, unknown>;
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pm['deletionTimestamp']) {
    await deletePod(ctx, deleteOptions);
    return;
  }
  const store = pdbStore();
  const labels = (pm['labels'] ?? {}) as Record<string, string>;
  const pdbs = store.cache.list(store.keyPrefix(ctx.ri.namespace)).map((c) => c.obj).filter((pdb) => {
    const sel = ((pdb['spec'] ?? {}) as Record<string, unknown>)['selector'];
    if (!sel) return false;
    try {
      const s = labelSelectorAsSelector(sel as never);
      return matches(s, labels) && Object.keys((sel as Record<string, unknown>)).length > 0;
    } catch {
      return false;
    }
  });
  if (pdbs.length > 1) {
    throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  }
  if (pdbs.length === 1) {
    const pdb = pdbs[0]!;
    const name = String(((pdb['metadata'] ?? {}) as Record<string, unknown>)['name']);
    await store.update(ctx.ri.namespace, name, (current) => {
      if (!current) throw newNotFound(store.gr, name);
      const meta = (current['metadata'] ?? {}) as Record<string, unknown>;
      const status = (current['status'] ??= {}) as Record<string, unknown>;
      if (typeof status['observedGeneration'] !== 'number' || status['observedGeneration'] < (meta['generation'] as number ?? 0)) {
        throw tooMany(`The disruption budget ${name} is still being processed by the server.`);
      }
      const allowed = typeof status['disruptionsAllowed'] === 'number' ? status['disruptionsAllowed'] : 0;
      if (allowed <= 0) {
        throw tooMany(`The disruption budget ${name} needs ${status['desiredHealthy'] ?? 0} healthy pods and has ${status['currentHealthy'] ?? 0} currently`);
      }
      status['disruptionsAllowed'] = allowed - 1;
      const disrupted = (status['disruptedPods'] ?? {}) as Record<string, string>;
      disrupted[ctx.ri.name] = rfc3339(new Date());
      status['disruptedPods'] = disrupted;
      return current as KObject;
    }, { subresource: 'status', dryRun: deleteOptions.dryRun });
  }
  await deletePod(ctx, deleteOptions);
}

async function deletePod(ctx: HandlerContext, opts: DeleteOptions): Promise<void> {
  await ctx.store.delete(ctx.ri.namespace, ctx.ri.name, opts);
  writeJSON(ctx.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

/** The registry of PodDisruptionBudgets (policy/v1). */
export function pdbInfo(): ReturnType<typeof resourceFor> {
  return resourceFor('policy', 'v1', 'poddisruptionbudgets');
}
