// The scale subresource (deployments, replicasets, statefulsets, replicationcontrollers): reads and
// writes an autoscaling/v1 Scale view of the object's spec.replicas, as upstream's ScaleREST does.
import { labelSelectorAsSelector, selectorFromSet, selectorString } from '../../api/labels.ts';
import { invalid, newPath } from '../../api/field_errors.ts';
import { newBadRequest, newConflict, newInvalid } from '../errors.ts';
import { contentType, readBody, writeJSON } from '../http_util.ts';
import { applyPatchBody } from '../patch.ts';
import { resourceFor } from '../../api/resource_table.ts';
import type { KObject } from '../registry/strategy.ts';
import type { HandlerContext } from './context.ts';
import { fieldManagerOf } from './write.ts';

/** The Scale view of an object. */
export function scaleOf(ctx: HandlerContext, obj: KObject): KObject {
  const meta = (obj['metadata'] ?? {}) as Record<string, unknown>;
  const spec = (obj['spec'] ?? {}) as Record<string, unknown>;
  const status = (obj['status'] ?? {}) as Record<string, unknown>;
  let selector = '';
  const sel = spec['selector'];
  if (ctx.info.resource === 'replicationcontrollers') {
    selector = selectorString(selectorFromSet((sel ?? {}) as Record<string, string>));
  } else if (sel && typeof sel === 'object') {
    try {
      selector = selectorString(labelSelectorAsSelector(sel as never));
    } catch {
      selector = '';
    }
  }
  const m: Record<string, unknown> = { name: meta['name'] };
  if (meta['namespace'] !== undefined) m['namespace'] = meta['namespace'];
  m['uid'] = meta['uid'];
  m['resourceVersion'] = meta['resourceVersion'];
  m['creationTimestamp'] = meta['creationTimestamp'];
  const st: Record<string, unknown> = { replicas: typeof status['replicas'] === 'number' ? status['replicas'] : 0 };
  if (selector !== '') st['selector'] = selector;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: m,
    spec: { replicas: typeof spec['replicas'] === 'number' ? spec['replicas'] : 0 }, status: st,
  };
}

/** GET, PUT or PATCH of …/scale. */
export async function handleScale(ctx: HandlerContext): Promise<void> {
  const verb = ctx.ri.verb;
  if (verb === 'get') {
    writeJSON(ctx.res, 200, scaleOf(ctx, await ctx.store.get(ctx.ri.namespace, ctx.ri.name)));
    return;
  }
  const body = await readBody(ctx.req);
  const ct = contentType(ctx.req);
  const scaleInfo = resourceFor('autoscaling', 'v1', 'horizontalpodautoscalers');
  const dryRun = ctx.query.getAll('dryRun').includes('All');
  const { obj } = await ctx.store.update(ctx.ri.namespace, ctx.ri.name, async (current) => {
    if (!current) throw newBadRequest('scale on a missing object');
    const before = scaleOf(ctx, current);
    let scale: KObject;
    if (verb === 'update') {
      scale = ctx.services.decodeBody(ctx.req, body, { ...ctx.info, kind: 'Scale', version: 'v1', group: 'autoscaling', definition: 'io.k8s.api.autoscaling.v1.Scale' });
    } else {
      scale = await applyPatchBody(ct === 'application/strategic-merge-patch+json' ? 'application/merge-patch+json' : ct, before, body,
        { ...(scaleInfo ?? ctx.info), definition: 'io.k8s.api.autoscaling.v1.Scale' });
    }
    const sm = (scale['metadata'] ?? {}) as Record<string, unknown>;
    const rv = sm['resourceVersion'];
    const cm = (current['metadata'] ?? {}) as Record<string, unknown>;
    if (typeof rv === 'string' && rv !== '' && rv !== cm['resourceVersion']) throw newConflict(ctx.store.gr, ctx.ri.name);
    const replicas = ((scale['spec'] ?? {}) as Record<string, unknown>)['replicas'];
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw newInvalid('autoscaling', 'Scale', ctx.ri.name, [invalid(newPath('spec', 'replicas'), replicas ?? 0, 'must be greater than or equal to 0')]);
    }
    const next = structuredClone(current);
    (next['spec'] as Record<string, unknown> | undefined ?? (next['spec'] = {}) as Record<string, unknown>)['replicas'] = replicas;
    // Conditional only when the Scale named a resourceVersion; otherwise retried on races.
    if (typeof rv !== 'string' || rv === '') delete (next['metadata'] as Record<string, unknown>)['resourceVersion'];
    return next;
  }, { dryRun, fieldManager: fieldManagerOf(ctx), managerSubresource: 'scale', user: ctx.user, warnings: ctx.warnings });
  writeJSON(ctx.res, 200, scaleOf(ctx, obj));
}
