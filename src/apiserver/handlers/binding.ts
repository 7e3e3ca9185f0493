// pods/binding: the scheduler's way to assign a pod to a node (POST a Binding), as upstream's
// BindingREST: sets spec.nodeName once, and fails with 409 when the pod is already assigned.
import { ApiError, newBadRequest } from '../errors.ts';
import { readBody, writeJSON } from '../http_util.ts';
import type { HandlerContext } from './context.ts';

/** POST …/pods/NAME/binding */
export async function handleBinding(ctx: HandlerContext): Promise<void> {
  const body = await readBody(ctx.req);
  const binding = ctx.services.decodeBody(ctx.req, body, { ...ctx.info, kind: 'Binding', definition: 'io.k8s.api.core.v1.Binding' });
  const target = (binding['target'] ?? {}) as Record<string, unknown>;
  const node = target['name'];
  if (typeof node !== 'string' || node === '') throw newBadRequest('target.name: Required value');
  const bm = (binding['metadata'] ?? {}) as Record<string, unknown>;
  if (typeof bm['name'] === 'string' && bm['name'] !== '' && bm['name'] !== ctx.ri.name) {
    throw newBadRequest(`the name of the object (${bm['name']}) does not match the name on the URL (${ctx.ri.name})`);
  }
  const dryRun = ctx.query.getAll('dryRun').includes('All');
  // managedFieldsSet: upstream's BindingREST writes storage directly, no field manager records it.
  await ctx.store.update(ctx.ri.namespace, ctx.ri.name, (current) => {
    if (!current) throw new ApiError(404, 'NotFound', `pods "${ctx.ri.name}" not found`, { name: ctx.ri.name, kind: 'pods' });
    const m = (current['metadata'] ?? {}) as Record<string, unknown>;
    const spec = (current['spec'] ??= {}) as Record<string, unknown>;
    if (typeof bm['uid'] === 'string' && bm['uid'] !== '' && bm['uid'] !== m['uid']) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${ctx.ri.name}": Precondition failed: UID in precondition: ${bm['uid']}, UID in object meta: ${String(m['uid'] ?? '')}`, { name: ctx.ri.name, kind: 'pods/binding' });
    }
    if (m['deletionTimestamp']) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${ctx.ri.name}": pod ${ctx.ri.name} is being deleted, cannot be assigned to a host`, { name: ctx.ri.name, kind: 'pods/binding' });
    }
    if (typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '') {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${ctx.ri.name}": pod ${ctx.ri.name} is already assigned to node "${spec['nodeName']}"`, { name: ctx.ri.name, kind: 'pods/binding' });
    }
    spec['nodeName'] = node;
    const annotations = bm['annotations'];
    if (annotations && typeof annotations === 'object') m['annotations'] = { ...((m['annotations'] ?? {}) as object), ...(annotations as object) };
    const status = (current['status'] ??= {}) as Record<string, unknown>;
    const conditions = Array.isArray(status['conditions']) ? status['conditions'] as Array<Record<string, unknown>> : [];
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    status['conditions'] = [...conditions.filter((c) => c['type'] !== 'PodScheduled'), { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }];
    delete m['resourceVersion'];
    return current;
  }, { dryRun, subresource: 'binding', managedFieldsSet: true });
  writeJSON(ctx.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}
