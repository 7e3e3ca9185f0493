// Errors of strategic merge patch with upstream's messages (apimachinery mergepatch and
// strategicpatch), including Go's %v/%s rendering of decoded JSON, and the HTTP status the
// apiserver answers each with (handlers/patch.go interpretStrategicMergePatchError).
import { compareGoStrings, goFormatNumber } from '../go_strings.ts';
import { PatchError } from './json_patch.ts';

/**
 * A strategic merge patch that cannot be applied. `status` is what upstream answers: 400 BadRequest
 * for malformed directives, 422 for lists of lists and retainKeys mismatches, and 500 with an empty
 * reason for everything else (kubectl prints "Error from server: <message>").
 */
export class StrategicMergePatchError extends PatchError {
  readonly status: 400 | 422 | 500;
  constructor(message: string, status: 400 | 422 | 500 = 500) {
    super(message);
    this.name = 'StrategicMergePatchError';
    this.status = status;
  }
}

function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int64' : 'float64';
    default:
      return 'map[string]interface {}';
  }
}

/** fmt's %v (verb 'v') or %s (verb 's') of a JSON value decoded the way the apiserver decodes it. */
export function goSprint(v: unknown, verb: 'v' | 's' = 'v'): string {
  if (v === null || v === undefined) return verb === 'v' ? '<nil>' : '%!s(<nil>)';
  if (Array.isArray(v)) return `[${v.map((x) => goSprint(x, verb)).join(' ')}]`;
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return verb === 'v' ? String(v) : `%!s(bool=${String(v)})`;
    case 'number':
      return verb === 'v' ? goFormatNumber(v) : `%!s(${goTypeName(v)}=${goFormatNumber(v)})`;
    default: {
      const m = v as Record<string, unknown>;
      const keys = Object.keys(m).sort(compareGoStrings);
      return `map[${keys.map((k) => `${k}:${goSprint(m[k], verb)}`).join(' ')}]`;
    }
  }
}

export const ErrBadPatchFormatForPrimitiveList = 'invalid patch format of primitive list';
export const ErrBadPatchFormatForRetainKeys = 'invalid patch format of retainKeys';
export const ErrBadPatchFormatForSetElementOrderList = 'invalid patch format of setElementOrder list';
export const ErrNoListOfLists = 'lists of lists are not supported';

/** One of upstream's sentinel errors, with the status the apiserver maps it to. */
export function sentinelError(message: string): StrategicMergePatchError {
  return new StrategicMergePatchError(message, message === ErrNoListOfLists ? 422 : 400);
}

/** mergepatch.ErrNoMergeKey. */
export function noMergeKeyError(m: unknown, key: string): StrategicMergePatchError {
  return new StrategicMergePatchError(`map: ${goSprint(m)} does not contain declared merge key: ${key}`);
}

/** mergepatch.ErrBadArgType, naming Go's types. */
export function badArgTypeError(expected: 'map' | 'list', actual: unknown): StrategicMergePatchError {
  const want = expected === 'map' ? 'map[string]interface {}' : '[]interface {}';
  const got = actual === null || actual === undefined ? '%!s(<nil>)' : goTypeName(actual);
  return new StrategicMergePatchError(`expected a ${want}, but received a ${got}`);
}

/** mergepatch.ErrBadPatchType. */
export function badPatchTypeError(directive: unknown, m: unknown): StrategicMergePatchError {
  return new StrategicMergePatchError(`unknown patch type: ${goSprint(directive, 's')} in map: ${goSprint(m)}`);
}
