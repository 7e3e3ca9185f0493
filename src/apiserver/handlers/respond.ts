// Writes one object in the negotiated form (JSON, Table, PartialObjectMetadata).
import { writeBytes, writeJSON } from '../http_util.ts';
import type { KObject } from '../registry/strategy.ts';
import { servedJSON } from '../stored_json.ts';
import type { HandlerContext } from './context.ts';

function headersOf(ctx: HandlerContext): Record<string, string> {
  const headers: Record<string, string> = {};
  // Each message once, as upstream's warning recorder keeps them (an update retried after a conflict repeats its checks).
  if (ctx.warnings.length > 0) headers['Warning'] = [...new Set(ctx.warnings)].map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
  return headers;
}

/** Answers with one object. */
export function respondObject(ctx: HandlerContext, code: number, obj: KObject): void {
  const headers = headersOf(ctx);
  if (ctx.negotiated.as === 'table') {
    writeJSON(ctx.res, code, ctx.services.toTable(ctx.info, [obj], { includeObject: ctx.query.get('includeObject') ?? 'Metadata', listMeta: { resourceVersion: (obj['metadata'] as Record<string, unknown> | undefined)?.['resourceVersion'] } }), headers);
    return;
  }
  if (ctx.negotiated.as === 'metadata') {
    writeJSON(ctx.res, code, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj['metadata'] }, headers);
    return;
  }
  // The registry serialized what it just wrote; the same bytes answer.
  const json = servedJSON(obj);
  if (json !== undefined) {
    writeBytes(ctx.res, code, Buffer.concat([json, NEWLINE], json.length + 1), 'application/json', headers);
    return;
  }
  writeJSON(ctx.res, code, obj, headers);
}

/** Answers with one object already encoded as JSON (only for plain JSON answers; see respondObject). */
export function respondEncoded(ctx: HandlerContext, code: number, json: Buffer): void {
  writeBytes(ctx.res, code, Buffer.concat([json, NEWLINE], json.length + 1), 'application/json', headersOf(ctx));
}

const NEWLINE = Buffer.from('\n');
