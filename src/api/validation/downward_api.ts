// Downward API selectors: fieldRef (ObjectFieldSelector, with the v1 field label conversion) and
// resourceFieldRef (ResourceFieldSelector with its divisor rules), for env vars and volume files.

import { invalid, notSupported, required, type ErrorList, type Path } from '../field_errors.ts';
import { quantityString } from '../quantity.ts';
import { isQualifiedName } from './names.ts';
import { quantityOf } from './resources.ts';
import { str, type Obj } from './values.ts';

const ENV_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
];
const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const CONVERTIBLE_LABELS = new Set([
  'metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName',
  'spec.restartPolicy', 'spec.serviceAccountName', 'spec.schedulerName', 'status.phase', 'status.hostIP',
  'status.hostIPs', 'status.podIP', 'status.podIPs',
]);
const RESOURCE_FIELD_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];
const HUGEPAGE_PREFIXES = ['limits.hugepages-', 'requests.hugepages-'];
const SIZE_DIVISORS = new Set(['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei']);
const SIZE_DIVISOR_TEXT = '1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei';

/** fieldpath.SplitMaybeSubscriptedPath: `metadata.labels['k']` -> [path, subscript]. */
export function splitMaybeSubscriptedPath(fieldPath: string): [string, string, boolean] {
  if (!fieldPath.endsWith("']")) return [fieldPath, '', false];
  const s = fieldPath.slice(0, -2);
  const at = s.indexOf("['");
  if (at <= 0) return [fieldPath, '', false];
  return [s.slice(0, at), s.slice(at + 2), true];
}

// podshelper.ConvertDownwardAPIFieldLabel: the internal field path, or an error text.
function convertFieldLabel(version: string, label: string): { path: string } | { error: string } {
  if (version !== 'v1') return { error: `unsupported pod version: ${version}` };
  const [path, , ok] = splitMaybeSubscriptedPath(label);
  if (ok) {
    return path === 'metadata.annotations' || path === 'metadata.labels'
      ? { path: label }
      : { error: `field label does not support subscript: ${label}` };
  }
  if (CONVERTIBLE_LABELS.has(label)) return { path: label };
  if (label === 'spec.host') return { path: 'spec.nodeName' };
  return { error: `field label not supported: ${label}` };
}

/** validateObjectFieldSelector for env vars ('env') or downward API volume files ('volume'). */
export function validateObjectFieldSelector(fs: Obj, use: 'env' | 'volume', fldPath: Path): ErrorList {
  const apiVersion = str(fs['apiVersion']);
  const fieldPath = str(fs['fieldPath']);
  if (apiVersion === '') return [required(fldPath.child('apiVersion'), '')];
  if (fieldPath === '') return [required(fldPath.child('fieldPath'), '')];
  const converted = convertFieldLabel(apiVersion, fieldPath);
  if ('error' in converted) {
    return [invalid(fldPath.child('fieldPath'), fieldPath, `error converting fieldPath: ${converted.error}`)];
  }
  const [path, subscript, ok] = splitMaybeSubscriptedPath(converted.path);
  if (ok) {
    if (path === 'metadata.annotations') return isQualifiedName(subscript.toLowerCase()).map((m) => invalid(fldPath, subscript.toLowerCase(), m));
    if (path === 'metadata.labels') return isQualifiedName(subscript).map((m) => invalid(fldPath, subscript, m));
    return [invalid(fldPath, path, 'does not support subscript')];
  }
  const expressions = use === 'env' ? ENV_FIELD_PATHS : VOLUME_FIELD_PATHS;
  return expressions.includes(path) ? [] : [notSupported(fldPath.child('fieldPath'), path, expressions)];
}

function validateDivisor(resource: string, divisor: unknown, fldPath: Path): ErrorList {
  const q = quantityOf(divisor);
  if (q === null || q.unscaled === 0n) return [];
  const text = quantityString(q);
  const errs: ErrorList = [];
  switch (resource) {
    case 'limits.cpu':
    case 'requests.cpu':
      if (text !== '1m' && text !== '1') errs.push(invalid(fldPath.child('divisor'), resource, "only divisor's values 1m and 1 are supported with the cpu resource"));
      break;
    case 'limits.memory':
    case 'requests.memory':
      if (!SIZE_DIVISORS.has(text)) errs.push(invalid(fldPath.child('divisor'), resource, `only divisor's values ${SIZE_DIVISOR_TEXT} are supported with the memory resource`));
      break;
    case 'limits.ephemeral-storage':
    case 'requests.ephemeral-storage':
      if (!SIZE_DIVISORS.has(text)) errs.push(invalid(fldPath.child('divisor'), resource, `only divisor's values ${SIZE_DIVISOR_TEXT} are supported with the local ephemeral storage resource`));
      break;
  }
  if (HUGEPAGE_PREFIXES.some((p) => resource.startsWith(p)) && !SIZE_DIVISORS.has(text)) {
    errs.push(invalid(fldPath.child('divisor'), resource, `only divisor's values ${SIZE_DIVISOR_TEXT} are supported with the hugepages resource`));
  }
  return errs;
}

/** validateContainerResourceFieldSelector (containerName is required in volumes only). */
export function validateResourceFieldSelector(fs: Obj, fldPath: Path, volume: boolean): ErrorList {
  const errs: ErrorList = [];
  const resource = str(fs['resource']);
  if (volume && str(fs['containerName']) === '') errs.push(required(fldPath.child('containerName'), ''));
  else if (resource === '') errs.push(required(fldPath.child('resource'), ''));
  else if (!RESOURCE_FIELD_PATHS.includes(resource) && !HUGEPAGE_PREFIXES.some((p) => resource.startsWith(p))) {
    errs.push(notSupported(fldPath.child('resource'), resource, RESOURCE_FIELD_PATHS));
  }
  errs.push(...validateDivisor(resource, fs['divisor'], fldPath));
  return errs;
}
