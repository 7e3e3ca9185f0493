// Applies a PATCH body to the current object by content type: RFC 6902 JSON patch, RFC 7386
// merge patch, and strategic merge patch (built-in kinds only; custom resources get 415).
import type { ResourceInfo } from '../api/resource_types.ts';
import { jsonPatch, mergePatch } from '../api/patch/json_patch.ts';
import { ApiError, newBadRequest, newUnsupportedMediaType } from './errors.ts';
import { goJsonSyntaxError, goJsonValueKind } from './json_syntax.ts';
import type { KObject } from './registry/strategy.ts';

/**
 * Loaded on first use (it indexes the OpenAPI schema for patch metadata), then kept: a dynamic
 * import per request costs a module-loader round trip (a thread hop under tsx).
 */
let strategicMergeModule: typeof import('../api/patch/strategic_merge.ts') | undefined;

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

/** Returns the patched object (a new object; `current` is not modified). */
export async function applyPatchBody(contentType: string, current: KObject, body: Buffer, info: ResourceInfo): Promise<KObject> {
  let patch: unknown;
  switch (contentType) {
    case 'application/json-patch+json': {
      patch = parse(body, PATCH_ERROR_PREFIX);
      if (!Array.isArray(patch)) throw newBadRequest(`error decoding patch: json: cannot unmarshal ${goJsonValueKind(patch)} into Go value of type []handlers.jsonPatchOp`);
      try {
        return jsonPatch(current, patch) as KObject;
      } catch (err) {
        throw patchError(err);
      }
    }
    case 'application/merge-patch+json': {
      patch = parse(body, PATCH_ERROR_PREFIX);
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw newBadRequest('merge patch must be a JSON object');
      const out = mergePatch(current, patch);
      if (typeof out !== 'object' || out === null || Array.isArray(out)) throw newBadRequest('merge patch result is not an object');
      return out as KObject;
    }
    case 'application/strategic-merge-patch+json': {
      if (!info.definition.startsWith('io.k8s.')) {
        throw newUnsupportedMediaType(contentType, PATCH_TYPES.filter((t) => !t.includes('strategic')));
      }
      patch = parse(body, '');
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw newBadRequest('strategic merge patch must be a JSON object');
      try {
        const { strategicMergePatch } = strategicMergeModule ?? (strategicMergeModule = await import('../api/patch/strategic_merge.ts'));
        return strategicMergePatch(current, patch as KObject, info.definition) as KObject;
      } catch (err) {
        throw patchError(err);
      }
    }
    default:
      throw newUnsupportedMediaType(contentType, PATCH_TYPES);
  }
}

// Upstream decodes JSON and merge patches with a "error decoding patch: " prefix, strategic ones without.
const PATCH_ERROR_PREFIX = 'error decoding patch: ';

function parse(body: Buffer, prefix: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw newBadRequest(`${prefix}${goJsonSyntaxError(body) ?? 'unexpected end of JSON input'}`);
  }
}

function patchError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const status = (err as { status?: number }).status;
  if (status === 400) return newBadRequest(msg);
  if (status === 422) return new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request');
  // Upstream answers malformed strategic patches with a 500; we never answer 500 for client input.
  return new ApiError(422, 'Invalid', msg);
}
