// POST (create), PUT (update, also of /status), PATCH and DELETE (one object or a collection).
// Bodies are decoded and checked against the URL here; object semantics live in the registry.
import { groupVersionString } from '../../api/resource_types.ts';
import { ApiError, newBadRequest, newInvalid, newMethodNotSupported, type StatusDetails } from '../errors.ts';
import { contentType, intParam, readBody, writeJSON } from '../http_util.ts';
import { checkBodyAgainstRequest, type DeleteOptions } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';
import { parseBool } from '../request_info.ts';
import { parseSelection } from '../selection.ts';
import { applyPatchBody } from '../patch.ts';
import { parse as parseYaml } from 'yaml';
import { apply as applyFields, defaultResetFields } from '../../api/apply/field_manager.ts';
import { conflictStatus } from '../../api/apply/conflict.ts';
import { newPath, required } from '../../api/field_errors.ts';
import { copyJson } from '../../api/json_copy.ts';
import { checkBodyKind } from './body_kind.ts';
import type { HandlerContext } from './context.ts';
import { respondObject } from './respond.ts';

function dryRunOf(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  for (const v of values) {
    if (v !== 'All') throw newBadRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  }
  return values.length > 0;
}

function fieldValidationOf(q: URLSearchParams): string {
  const v = q.get('fieldValidation') ?? '';
  if (v === '') return 'Warn';
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') {
    throw newBadRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
  }
  return v;
}

/** The manager of a write: fieldManager, else the User-Agent's product name (upstream's default). */
export function fieldManagerOf(ctx: HandlerContext): string {
  const fm = ctx.query.get('fieldManager');
  if (fm) return fm;
  const ua = String(ctx.req.headers['user-agent'] ?? '');
  const name = ua.split('/')[0]!.replace(/[^\x20-\x7e]/g, '?').slice(0, 128);
  return name || 'unknown';
}

/** POST on a collection. */
export async function handleCreate(ctx: HandlerContext): Promise<void> {
  if (ctx.ri.subresource !== '' || ctx.ri.name !== '') throw newMethodNotSupported(ctx.store.gr, 'create');
  const dryRun = dryRunOf(ctx.query);
  const mode = fieldValidationOf(ctx.query);
  const body = await readBody(ctx.req);
  const obj = ctx.services.decodeBody(ctx.req, body, ctx.info);
  checkBodyKind(ctx.info, obj);
  ctx.warnings.push(...ctx.services.checkFields(ctx.info, obj, mode));
  const namespace = ctx.info.namespaced ? ctx.ri.namespace : '';
  checkBodyAgainstRequest(ctx.info, obj, namespace, undefined, groupVersionString(ctx.info.group, ctx.info.version));
  const created = await ctx.store.create(namespace, obj, { dryRun, user: ctx.user, warnings: ctx.warnings, fieldManager: fieldManagerOf(ctx) });
  respondObject(ctx, 201, created);
}

/** pods/ephemeralcontainers, written like a status: only spec.ephemeralContainers changes (strategies.ts). */
function isEphemeralContainers(ctx: HandlerContext): boolean {
  return ctx.ri.subresource === 'ephemeralcontainers' && ctx.info.group === '' && ctx.info.resource === 'pods';
}

/** PUT on an object or its status. */
export async function handleUpdate(ctx: HandlerContext): Promise<void> {
  const sub = ctx.ri.subresource;
  if (sub !== '' && sub !== 'status' && !(sub === 'finalize' && ctx.info.resource === 'namespaces') && !isEphemeralContainers(ctx)) throw newMethodNotSupported(ctx.store.gr, 'update');
  const dryRun = dryRunOf(ctx.query);
  const mode = fieldValidationOf(ctx.query);
  const body = await readBody(ctx.req);
  const obj = ctx.services.decodeBody(ctx.req, body, ctx.info);
  checkBodyKind(ctx.info, obj);
  ctx.warnings.push(...ctx.services.checkFields(ctx.info, obj, mode));
  checkBodyAgainstRequest(ctx.info, obj, ctx.ri.namespace, ctx.ri.name, groupVersionString(ctx.info.group, ctx.info.version));
  const { obj: out, created } = await ctx.store.update(ctx.ri.namespace, ctx.ri.name, () => {
    return copyJson(obj);
  }, { dryRun, subresource: sub, user: ctx.user, warnings: ctx.warnings, fieldManager: fieldManagerOf(ctx) });
  respondObject(ctx, created ? 201 : 200, out);
}

/** PATCH on an object or its status. */
export async function handlePatch(ctx: HandlerContext): Promise<void> {
  const sub = ctx.ri.subresource;
  if (sub !== '' && sub !== 'status' && !isEphemeralContainers(ctx)) throw newMethodNotSupported(ctx.store.gr, 'patch');
  const dryRun = dryRunOf(ctx.query);
  const mode = fieldValidationOf(ctx.query);
  const ct = contentType(ctx.req);
  const body = await readBody(ctx.req);
  const gv = groupVersionString(ctx.info.group, ctx.info.version);
  if (ct === 'application/apply-patch+yaml') {
    await handleApply(ctx, body, dryRun, mode);
    return;
  }
  const { obj: out } = await ctx.store.update(ctx.ri.namespace, ctx.ri.name, async (current) => {
    if (current === undefined) {
      // Only server-side apply creates through PATCH; the registry reports NotFound otherwise.
      throw new ApiError(404, 'NotFound', `${ctx.store.gr.group === '' ? ctx.info.resource : `${ctx.info.resource}.${ctx.info.group}`} "${ctx.ri.name}" not found`, notFoundDetails(ctx));
    }
    const currentRV = (current['metadata'] as Record<string, unknown> | undefined)?.['resourceVersion'];
    const patched = await applyPatchBody(ct, current, body, ctx.info);
    // A patch that leaves resourceVersion alone is unconditional (retried on races); one that
    // sets a different value is a precondition, checked by the store (409 on mismatch).
    const pm = patched['metadata'] as Record<string, unknown> | undefined;
    if (pm && pm['resourceVersion'] === currentRV) delete pm['resourceVersion'];
    ctx.services.checkTyped(ctx.info, patched);
    ctx.warnings.push(...ctx.services.checkFields(ctx.info, patched, mode));
    checkBodyAgainstRequest(ctx.info, patched, ctx.ri.namespace, ctx.ri.name, gv);
    return patched;
  }, { dryRun, subresource: sub, user: ctx.user, warnings: ctx.warnings, fieldManager: fieldManagerOf(ctx) });
  respondObject(ctx, 200, out);
}

/** Server-side apply: PATCH application/apply-patch+yaml (creates the object when missing). */
async function handleApply(ctx: HandlerContext, body: Buffer, dryRun: boolean, mode: string): Promise<void> {
  const manager = ctx.query.get('fieldManager') ?? '';
  if (manager === '') {
    throw newInvalid('meta.k8s.io', 'PatchOptions', '', [required(newPath('fieldManager'), 'is required for apply patch')]);
  }
  const force = parseBool(ctx.query.get('force')) === true;
  let applied: unknown;
  try {
    applied = parseYaml(body.toString('utf8'));
  } catch (err) {
    throw newBadRequest(`error decoding YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof applied !== 'object' || applied === null || Array.isArray(applied)) throw newBadRequest('the apply patch must be an object');
  const gv = groupVersionString(ctx.info.group, ctx.info.version);
  const sub = ctx.ri.subresource;
  const appliedObj = applied as KObject;
  ctx.services.checkTyped(ctx.info, structuredClone(appliedObj));
  ctx.warnings.push(...ctx.services.checkFields(ctx.info, appliedObj, mode));
  const { obj: out, created } = await ctx.store.update(ctx.ri.namespace, ctx.ri.name, async (current) => {
    const live = current ? copyJson(current) : undefined;
    if (live) delete (live['metadata'] as Record<string, unknown>)['resourceVersion'];
    const result = applyFields({
      definition: ctx.info.definition, apiVersion: gv, kind: ctx.info.kind, live: live as never, applied: structuredClone(appliedObj) as never,
      manager, force, subresource: sub || undefined, time: new Date(),
      resetFields: ctx.info.subresources.some((x) => x.name === 'status') ? defaultResetFields(sub || undefined) : [],
    });
    if ('conflicts' in result) {
      const st = conflictStatus(result.conflicts) as { message: string; details?: StatusDetails };
      throw new ApiError(409, 'Conflict', st.message, st.details);
    }
    if ('error' in result) {
      if (result.error.code === 400) throw newBadRequest(result.error.message);
      throw new ApiError(422, 'Invalid', result.error.message);
    }
    const next = result.object as KObject;
    checkBodyAgainstRequest(ctx.info, next, ctx.ri.namespace, ctx.ri.name, gv);
    const nm = (next['metadata'] ??= {}) as Record<string, unknown>;
    nm['managedFields'] = result.managedFields;
    if (current && typeof appliedObj['metadata'] === 'object' && (appliedObj['metadata'] as Record<string, unknown>)['resourceVersion'] !== undefined) {
      nm['resourceVersion'] = (appliedObj['metadata'] as Record<string, unknown>)['resourceVersion'];
    } else {
      delete nm['resourceVersion'];
    }
    return next;
  }, { dryRun, subresource: sub, user: ctx.user, warnings: ctx.warnings, fieldManager: manager, managedFieldsSet: true, createIfMissing: sub === '' });
  respondObject(ctx, created ? 201 : 200, out);
}

function notFoundDetails(ctx: HandlerContext): StatusDetails {
  const d: StatusDetails = { name: ctx.ri.name };
  if (ctx.info.group !== '') d.group = ctx.info.group;
  d.kind = ctx.info.resource;
  return d;
}

/** Reads DeleteOptions from the body and the query, as upstream merges them. */
async function deleteOptionsOf(ctx: HandlerContext): Promise<DeleteOptions> {
  const q = ctx.query;
  let fromBody: KObject = {};
  const body = await readBody(ctx.req);
  if (body.length > 0 && body.toString('utf8').trim() !== '') {
    fromBody = ctx.services.decodeBody(ctx.req, body, { ...ctx.info, kind: 'DeleteOptions', definition: 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions' });
  }
  const grace = intParam(q, 'gracePeriodSeconds') ?? (typeof fromBody['gracePeriodSeconds'] === 'number' ? fromBody['gracePeriodSeconds'] : undefined);
  let policy = q.get('propagationPolicy') ?? (typeof fromBody['propagationPolicy'] === 'string' ? fromBody['propagationPolicy'] : undefined);
  const orphan = q.has('orphanDependents') ? parseBool(q.get('orphanDependents')) : (typeof fromBody['orphanDependents'] === 'boolean' ? fromBody['orphanDependents'] : undefined);
  if (policy !== undefined && policy !== 'Foreground' && policy !== 'Background' && policy !== 'Orphan') {
    throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  if (policy === undefined && orphan !== undefined) policy = orphan ? 'Orphan' : 'Background';
  if (grace !== undefined && grace < 0) {
    throw new ApiError(422, 'Invalid', 'DeleteOptions.meta.k8s.io "" is invalid: gracePeriodSeconds: Invalid value: ' + grace + ': must be greater than or equal to 0');
  }
  const pre = (fromBody['preconditions'] ?? undefined) as { uid?: string; resourceVersion?: string } | undefined;
  const dryRun = dryRunOf(q) || (Array.isArray(fromBody['dryRun']) && (fromBody['dryRun'] as unknown[]).includes('All'));
  return { gracePeriodSeconds: grace, propagationPolicy: policy as DeleteOptions['propagationPolicy'], preconditions: pre, dryRun, user: ctx.user, warnings: ctx.warnings };
}

/** DELETE on an object. */
export async function handleDelete(ctx: HandlerContext): Promise<void> {
  if (ctx.ri.subresource !== '') throw newMethodNotSupported(ctx.store.gr, 'delete');
  const opts = await deleteOptionsOf(ctx);
  const { obj, deleted } = await ctx.store.delete(ctx.ri.namespace, ctx.ri.name, opts);
  if (deleted && !ctx.store.strategy.returnDeletedObject) {
    const m = (obj['metadata'] ?? {}) as Record<string, unknown>;
    const details: StatusDetails = { name: ctx.ri.name };
    if (ctx.info.group !== '') details.group = ctx.info.group;
    details.kind = ctx.info.resource;
    if (typeof m['uid'] === 'string') details.uid = m['uid'];
    writeJSON(ctx.res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
    return;
  }
  respondObject(ctx, deleted ? 200 : 200, obj);
}

/** DELETE on a collection: each matching object is deleted with the same options. */
export async function handleDeleteCollection(ctx: HandlerContext): Promise<void> {
  const opts = await deleteOptionsOf(ctx);
  const sel = parseSelection(ctx.info, ctx.ri.namespace, ctx.query);
  await ctx.store.cache.sync();
  const matched = ctx.store.cache.list(ctx.store.keyPrefix(sel.namespace)).filter((c) => sel.matches(c.obj));
  const out: KObject[] = [];
  for (const c of matched) {
    const m = c.obj['metadata'] as Record<string, unknown>;
    try {
      const r = await ctx.store.delete(String(m['namespace'] ?? ''), String(m['name']), opts);
      out.push(r.obj);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) continue;
      throw err;
    }
  }
  writeJSON(ctx.res, 200, {
    kind: ctx.info.listKind,
    apiVersion: groupVersionString(ctx.info.group, ctx.info.version),
    metadata: { resourceVersion: String(ctx.store.cache.revision) },
    items: out,
  });
}
