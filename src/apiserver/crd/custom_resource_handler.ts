// Serves a request for a custom resource once the registry found its version (apiextensions'
// crdHandler.ServeHTTP after the lookup): deprecation warnings, no creates while the CRD
// terminates, no strategic merge patches, /scale from the CRD's paths, the rest by the generic handlers.
import { ApiError, newMethodNotSupported, newNotFound, newUnsupportedMediaType } from '../errors.ts';
import { contentType } from '../http_util.ts';
import type { HandlerContext } from '../handlers/context.ts';
import { handleGet, handleList } from '../handlers/read.ts';
import { handleWatch } from '../handlers/watch.ts';
import { handleCreate, handleDelete, handleDeleteCollection, handlePatch, handleUpdate } from '../handlers/write.ts';
import type { ServedCustomResource } from './crd_registry.ts';
import { handleCustomResourceScale } from './scale.ts';

/** What a custom resource accepts as PATCH bodies (no strategic merge: there is no patch metadata). */
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

/** Serves one custom resource request; `ctx` already carries the served version's registry and services. */
export async function serveCustomResource(ctx: HandlerContext, served: ServedCustomResource): Promise<void> {
  const { ri } = ctx;
  const gr = { group: ri.group, resource: ri.resource };
  if (served.warning !== undefined) ctx.warnings.push(served.warning);
  if (ri.verb === 'patch' && !PATCH_TYPES.includes(contentType(ctx.req))) throw newUnsupportedMediaType(contentType(ctx.req), PATCH_TYPES);
  if (ri.subresource === 'scale') {
    if (!served.scale) throw newNotFound(gr, ri.name);
    if (ri.verb !== 'get' && ri.verb !== 'update' && ri.verb !== 'patch') throw newMethodNotSupported(gr, ri.verb);
    return handleCustomResourceScale(ctx, served.scale);
  }
  if (ri.subresource === 'status') {
    if (!served.info.subresources.some((s) => s.name === 'status')) throw newNotFound(gr, ri.name);
    if (ri.verb !== 'get' && ri.verb !== 'update' && ri.verb !== 'patch') throw newMethodNotSupported(gr, ri.verb);
  } else if (ri.subresource !== '') {
    throw newNotFound(gr, ri.name);
  }
  switch (ri.verb) {
    case 'get': return handleGet(ctx);
    case 'list': return handleList(ctx);
    case 'watch': return handleWatch(ctx);
    case 'create':
      // Upstream also holds creates for two seconds after establishment, for HA servers to catch
      // up; one server's cache is consistent with its own writes, so we do not.
      if (served.terminating) {
        const err = newMethodNotSupported(gr, ri.verb);
        throw new ApiError(405, 'MethodNotAllowed', `${ri.verb} not allowed while custom resource definition is terminating`, err.status.details);
      }
      return handleCreate(ctx);
    case 'update': return handleUpdate(ctx);
    case 'patch': return handlePatch(ctx);
    case 'delete': return handleDelete(ctx);
    case 'deletecollection': return handleDeleteCollection(ctx);
    default: throw newMethodNotSupported(gr, ri.verb);
  }
}
