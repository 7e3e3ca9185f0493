// The scale subresource of a custom resource (apiextensions' ScaleREST): an autoscaling/v1 Scale
// read from and written to the paths the CRD names (specReplicasPath, statusReplicasPath,
// labelSelectorPath), through the main resource's registry and strategy.
import type { CustomResourceSubresourceScale } from '../../api/types/apiextensions_v1.ts';
import { ApiError, newBadRequest } from '../errors.ts';
import { contentType, readBody, writeJSON } from '../http_util.ts';
import { applyPatchBody } from '../patch.ts';
import type { KObject } from '../registry/strategy.ts';
import type { HandlerContext } from '../handlers/context.ts';
import { fieldManagerOf } from '../handlers/write.ts';
import { fieldPath, nested } from './custom_resource_store.ts';

const SCALE_INFO_DEFINITION = 'io.k8s.api.autoscaling.v1.Scale';
/** What an unset spec replicas reads as while a patch applies (upstream's marker, the smallest int32). */
const UNSET_REPLICAS = -2147483648;
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

/** The Scale of a custom resource (scaleFromCustomResource); `found` says whether spec replicas were set. */
export function scaleFromCustomResource(obj: KObject, scale: CustomResourceSubresourceScale): { scale: KObject; found: boolean } {
  const spec = nested(obj, fieldPath(scale.specReplicasPath), 'int64');
  const status = nested(obj, fieldPath(scale.statusReplicasPath), 'int64');
  const sel = scale.labelSelectorPath ? nested(obj, fieldPath(scale.labelSelectorPath), 'string') : { value: undefined };
  for (const r of [spec, status, sel]) {
    if ('error' in r) throw new ApiError(422, 'Invalid', r.error);
  }
  const specReplicas = 'value' in spec ? spec.value : undefined;
  const m = (obj['metadata'] ?? {}) as KObject;
  const sm: KObject = { name: m['name'] };
  if (m['namespace'] !== undefined) sm['namespace'] = m['namespace'];
  sm['uid'] = m['uid'];
  sm['resourceVersion'] = m['resourceVersion'];
  sm['creationTimestamp'] = m['creationTimestamp'];
  const st: KObject = { replicas: ('value' in status ? status.value : undefined) ?? 0 };
  const selector = 'value' in sel ? sel.value : undefined;
  if (selector) st['selector'] = selector;
  return {
    scale: { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: sm, spec: { replicas: specReplicas ?? 0 }, status: st },
    found: specReplicas !== undefined,
  };
}

function setNested(obj: KObject, fields: readonly string[], value: unknown): void {
  let cur = obj;
  for (const f of fields.slice(0, -1)) {
    const next = cur[f];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[f] = {};
    cur = cur[f] as KObject;
  }
  cur[fields[fields.length - 1]!] = value;
}

/** GET, PUT or PATCH of …/scale. */
export async function handleCustomResourceScale(ctx: HandlerContext, scale: CustomResourceSubresourceScale): Promise<void> {
  const verb = ctx.ri.verb;
  if (verb === 'get') {
    writeJSON(ctx.res, 200, scaleFromCustomResource(await ctx.store.get(ctx.ri.namespace, ctx.ri.name), scale).scale);
    return;
  }
  const ct = contentType(ctx.req);
  if (verb === 'patch' && !PATCH_TYPES.includes(ct)) {
    // Upstream serves the Scale kind with the built-in codecs, so a strategic patch is accepted and merged as JSON.
    if (ct !== 'application/strategic-merge-patch+json') throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`);
  }
  const body = await readBody(ctx.req);
  const dryRun = ctx.query.getAll('dryRun').includes('All');
  const scaleInfo = { ...ctx.info, group: 'autoscaling', version: 'v1', kind: 'Scale', definition: SCALE_INFO_DEFINITION };
  const { obj } = await ctx.store.update(ctx.ri.namespace, ctx.ri.name, async (current) => {
    if (!current) throw newBadRequest('scale on a missing object');
    const { scale: before, found } = scaleFromCustomResource(current, scale);
    if (!found) (before['spec'] as KObject)['replicas'] = UNSET_REPLICAS;
    let next: KObject;
    if (verb === 'update') next = ctx.services.decodeBody(ctx.req, body, scaleInfo);
    else next = await applyPatchBody(ct === 'application/strategic-merge-patch+json' ? 'application/merge-patch+json' : ct, before, body, scaleInfo);
    const replicas = ((next['spec'] ?? {}) as KObject)['replicas'] ?? 0;
    if (replicas === UNSET_REPLICAS) throw newBadRequest(`the spec replicas field "${scale.specReplicasPath}" cannot be empty`);
    if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
      throw newBadRequest(`Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${typeof replicas} into Go struct field ScaleSpec.spec.replicas of type int32`);
    }
    const out = structuredClone(current);
    setNested(out, fieldPath(scale.specReplicasPath), replicas);
    const rv = ((next['metadata'] ?? {}) as KObject)['resourceVersion'];
    // Conditional only when the Scale named a resourceVersion; otherwise retried on races.
    if (typeof rv === 'string' && rv !== '') (out['metadata'] as KObject)['resourceVersion'] = rv;
    else delete (out['metadata'] as KObject)['resourceVersion'];
    return out;
  }, { dryRun, fieldManager: fieldManagerOf(ctx), managerSubresource: 'scale', user: ctx.user, warnings: ctx.warnings });
  writeJSON(ctx.res, 200, scaleFromCustomResource(obj, scale).scale);
}
