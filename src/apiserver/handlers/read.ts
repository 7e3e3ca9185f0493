// GET of one object and LIST of a collection (from the watch cache, or from storage for
// paginated and exact-revision reads), with upstream's resourceVersion semantics.
import { newBadRequest, newResourceExpired, toApiError } from '../errors.ts';
import { intParam, writeBytes, writeJSON, writeRaw } from '../http_util.ts';
import type { KObject } from '../registry/strategy.ts';
import { parseSelection, selectionKeyPrefix, type Selection } from '../selection.ts';
import { listFromStorage } from '../registry/storage_list.ts';
import { groupVersionString } from '../../api/resource_types.ts';
import type { HandlerContext } from './context.ts';
import { respondEncoded, respondObject } from './respond.ts';

/** GET /…/name */
export async function handleGet(ctx: HandlerContext): Promise<void> {
  const rv = ctx.query.get('resourceVersion');
  // Plain JSON of a version stored as served: the stored bytes answer, never decoded.
  const encodedOK = ctx.negotiated.as === 'json' && !ctx.store.converts;
  let obj: KObject;
  if (rv === '0') {
    await ctx.store.cache.start();
    const cached = ctx.store.cache.get(ctx.store.key(ctx.ri.namespace, ctx.ri.name));
    if (cached && encodedOK) {
      respondEncoded(ctx, 200, cached.bytes());
      return;
    }
    obj = cached ? ctx.store.present(cached.copy()) : await ctx.store.get(ctx.ri.namespace, ctx.ri.name);
  } else {
    const encoded = encodedOK ? await ctx.store.getServedJSON(ctx.ri.namespace, ctx.ri.name) : undefined;
    if (encoded) {
      respondEncoded(ctx, 200, encoded);
      return;
    }
    obj = await ctx.store.get(ctx.ri.namespace, ctx.ri.name);
  }
  respondObject(ctx, 200, obj);
}

/** GET /…/collection */
export async function handleList(ctx: HandlerContext): Promise<void> {
  const q = ctx.query;
  const sel = parseSelection(ctx.info, ctx.ri.namespace, q);
  const rv = q.get('resourceVersion') ?? '';
  const rvMatch = q.get('resourceVersionMatch') ?? '';
  const limit = intParam(q, 'limit') ?? 0;
  const cont = q.get('continue') ?? '';
  if (rvMatch !== '' && rvMatch !== 'Exact' && rvMatch !== 'NotOlderThan') {
    throw newBadRequest(`resourceVersionMatch: Unsupported value: "${rvMatch}": supported values: "Exact", "NotOlderThan"`);
  }
  if (rvMatch !== '' && rv === '') throw newBadRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (cont !== '' && rv !== '' && rv !== '0') throw newBadRequest('specifying resource version is not allowed when using continue');
  if (rvMatch === 'Exact' && rv === '0') throw newBadRequest('resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  if (rv !== '' && !/^\d+$/.test(rv)) throw newBadRequest(`invalid resource version: ${rv}`);

  const listKind = ctx.info.listKind;
  const apiVersion = groupVersionString(ctx.info.group, ctx.info.version);
  let items: KObject[] | undefined;
  let itemBytes: Buffer[] | undefined;
  const listMeta: Record<string, unknown> = {};

  const fromStorage = cont !== '' || rvMatch === 'Exact' || (limit > 0 && rv !== '0' && rvMatch !== 'NotOlderThan');
  if (fromStorage) {
    try {
      const page = await listFromStorage(ctx.store, sel, { limit, continue: cont, revision: rvMatch === 'Exact' ? Number(rv) : 0 });
      items = page.items.map((o) => ctx.store.present(o));
      listMeta['resourceVersion'] = String(page.revision);
      if (page.continue) listMeta['continue'] = page.continue;
      if (page.remaining !== undefined && page.continue) listMeta['remainingItemCount'] = page.remaining;
    } catch (err) {
      const e = toApiError(err, ctx.store.gr);
      if (e.code === 410 && cont !== '') {
        throw newResourceExpired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      }
      throw e;
    }
  } else {
    const cache = ctx.store.cache;
    if (rv === '') await cache.sync();
    else if (rv !== '0') await cache.waitForRevision(Number(rv));
    else await cache.start();
    const listed = cache.list(selectionKeyPrefix(ctx.store, sel));
    const matched = sel.trivial ? listed : listed.filter((c) => sel.matches(c.obj));
    listMeta['resourceVersion'] = String(cache.revision);
    if (ctx.store.converts) items = matched.map((c) => ctx.store.present(c.obj));
    else if (ctx.negotiated.as === 'json') itemBytes = matched.map((c) => c.bytes());
    else items = matched.map((c) => c.obj);
  }

  if (ctx.negotiated.as === 'table') {
    const table = ctx.services.toTable(ctx.info, items ?? [], { includeObject: q.get('includeObject') ?? 'Metadata', listMeta });
    writeJSON(ctx.res, 200, table, warningHeaders(ctx));
    return;
  }
  if (ctx.negotiated.as === 'metadata') {
    const metaItems = (items ?? []).map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o['metadata'] }));
    writeJSON(ctx.res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: metaItems }, warningHeaders(ctx));
    return;
  }
  const head = `{"kind":${JSON.stringify(listKind)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":${JSON.stringify(listMeta)},"items":[`;
  if (itemBytes) {
    // Cached objects are already encoded: the body is their bytes joined, never one big string.
    writeBytes(ctx.res, 200, joinJSON(Buffer.from(head), itemBytes, LIST_TAIL), 'application/json', warningHeaders(ctx));
    return;
  }
  const body = (items ?? []).map((o) => JSON.stringify(o)).join(',');
  writeRaw(ctx.res, 200, head + body + ']}\n', 'application/json', warningHeaders(ctx));
}

const LIST_TAIL = Buffer.from(']}\n');
const COMMA = 0x2c;

/** head, the items separated by commas, tail: in one buffer. */
function joinJSON(head: Buffer, items: readonly Buffer[], tail: Buffer): Buffer {
  let size = head.length + tail.length + Math.max(0, items.length - 1);
  for (const b of items) size += b.length;
  const out = Buffer.allocUnsafe(size);
  out.set(head, 0);
  let at = head.length;
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out[at++] = COMMA;
    const b = items[i]!;
    out.set(b, at);
    at += b.length;
  }
  out.set(tail, at);
  return out;
}

/** Warning headers collected while handling. */
export function warningHeaders(ctx: HandlerContext): Record<string, string> {
  if (ctx.warnings.length === 0) return {};
  return { Warning: ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}

