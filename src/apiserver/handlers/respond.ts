// Writes one object in the negotiated form (JSON, Table, PartialObjectMetadata).
import { writeJSON } from '../http_util.ts';
import type { KObject } from '../registry/strategy.ts';
import type { HandlerContext } from './context.ts';

/** Answers with one object. */
export function respondObject(ctx: HandlerContext, code: number, obj: KObject): void {
  const headers: Record<string, string> = {};
  if (ctx.warnings.length > 0) headers['Warning'] = ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
  if (ctx.negotiated.as === 'table') {
    writeJSON(ctx.res, code, ctx.services.toTable(ctx.info, [obj], { includeObject: ctx.query.get('includeObject') ?? 'Metadata', listMeta: { resourceVersion: (obj['metadata'] as Record<string, unknown> | undefined)?.['resourceVersion'] } }), headers);
    return;
  }
  if (ctx.negotiated.as === 'metadata') {
    writeJSON(ctx.res, code, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj['metadata'] }, headers);
    return;
  }
  writeJSON(ctx.res, code, obj, headers);
}
