// Resource names and quantities (core helper's standard/native/extended resource rules) and
// container resource requirements: requests within limits, integer-only and hugepage resources.

import { forbidden, invalid, required, type ErrorList, type Path } from '../field_errors.ts';
import { cmpQuantity, parseQuantity, quantityMilliValue, quantityString, sign, tryParseQuantity, type Quantity } from '../quantity.ts';
import { isQualifiedName } from './names.ts';
import { IsNegativeErrorMsg } from './object_meta.ts';
import { objOr } from './values.ts';

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);
const standardResources = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers',
  'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims', 'storage', 'requests.storage',
  'services.nodeports', 'services.loadbalancers',
]);
const integerResources = new Set([
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps',
  'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers',
]);

/** hugepages-<size>. */
export function isHugePageResourceName(name: string): boolean {
  return name.startsWith('hugepages-');
}

/** Unprefixed or kubernetes.io-prefixed names. */
export function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** A fully qualified, non-native resource name that would also be a valid quota name. */
export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return isQualifiedName('requests.' + name).length === 0;
}

function isStandardResourceName(name: string): boolean {
  return standardResources.has(name) || name.startsWith('hugepages-') || name.startsWith('requests.hugepages-');
}

function isIntegerResourceName(name: string): boolean {
  return integerResources.has(name) || isExtendedResourceName(name);
}

/** Native non-hugepage resources may be overcommitted (requests below limits). */
export function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !isHugePageResourceName(name);
}

/** validateResourceName. */
export function validateResourceName(value: string, fldPath: Path): ErrorList {
  const errs: ErrorList = isQualifiedName(value).map((msg) => invalid(fldPath, value, msg));
  if (errs.length > 0) return errs;
  if (!value.includes('/') && !isStandardResourceName(value)) {
    errs.push(invalid(fldPath, value, 'must be a standard resource type or fully qualified'));
  }
  return errs;
}

/** validateContainerResourceName. */
export function validateContainerResourceName(value: string, fldPath: Path): ErrorList {
  const errs = validateResourceName(value, fldPath);
  if (!value.includes('/')) {
    if (!standardContainerResources.has(value) && !isHugePageResourceName(value)) {
      errs.push(invalid(fldPath, value, 'must be a standard resource for containers'));
    }
  } else if (!isNativeResource(value) && !isExtendedResourceName(value)) {
    errs.push(invalid(fldPath, value, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** A JSON quantity (string or number), or null when it does not parse. */
export function quantityOf(v: unknown): Quantity | null {
  if (typeof v === 'number') return tryParseQuantity(String(v));
  return typeof v === 'string' ? tryParseQuantity(v) : null;
}

/** ValidateNonnegativeQuantity. */
export function validateNonnegativeQuantity(q: Quantity, fldPath: Path): ErrorList {
  return sign(q) < 0 ? [invalid(fldPath, quantityString(q), IsNegativeErrorMsg)] : [];
}

/** ValidatePositiveQuantityValue. */
export function validatePositiveQuantityValue(q: Quantity, fldPath: Path): ErrorList {
  return sign(q) <= 0 ? [invalid(fldPath, quantityString(q), 'must be greater than zero')] : [];
}

/** ValidateResourceQuantityValue: not negative, whole for integer resources. */
export function validateResourceQuantityValue(resource: string, q: Quantity, fldPath: Path): ErrorList {
  const errs = validateNonnegativeQuantity(q, fldPath);
  if (isIntegerResourceName(resource) && quantityMilliValue(q) % 1000n !== 0n) {
    errs.push(invalid(fldPath, quantityString(q), 'must be an integer'));
  }
  return errs;
}

function hugePageValueError(name: string, q: Quantity): string | null {
  let pageSize: Quantity;
  try {
    pageSize = parseQuantity(name.slice('hugepages-'.length));
  } catch {
    return `${quantityString(q)} is not positive integer multiple of ${name}`;
  }
  const size = quantityMilliValue(pageSize);
  const value = quantityMilliValue(q);
  if (size <= 0n || value < 0n || value % size !== 0n) {
    return `${quantityString(q)} is not positive integer multiple of ${name}`;
  }
  return null;
}

/** ValidateContainerResourceRequirements (without resource claims, which need DRA). */
export function validateContainerResourceRequirements(requirements: unknown, fldPath: Path): ErrorList {
  const req = objOr(requirements);
  const limits = objOr(req['limits']);
  const requests = objOr(req['requests']);
  const limPath = fldPath.child('limits');
  const reqPath = fldPath.child('requests');
  const errs: ErrorList = [];
  let limCPUOrMemory = false;
  let reqCPUOrMemory = false;
  let limHugePages = false;
  let reqHugePages = false;
  for (const [name, raw] of Object.entries(limits)) {
    const path = limPath.key(name);
    errs.push(...validateContainerResourceName(name, path));
    const q = quantityOf(raw);
    if (q === null) continue;
    errs.push(...validateResourceQuantityValue(name, q, path));
    if (isHugePageResourceName(name)) {
      limHugePages = true;
      const e = hugePageValueError(name, q);
      if (e !== null) errs.push(invalid(path, quantityString(q), e));
    }
    if (name === 'cpu' || name === 'memory') limCPUOrMemory = true;
  }
  for (const [name, raw] of Object.entries(requests)) {
    const path = reqPath.key(name);
    errs.push(...validateContainerResourceName(name, path));
    const q = quantityOf(raw);
    if (q === null) continue;
    errs.push(...validateResourceQuantityValue(name, q, path));
    const limit = name in limits ? quantityOf(limits[name]) : null;
    if (limit !== null) {
      const c = cmpQuantity(q, limit);
      if (c !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalid(reqPath, quantityString(q), `must be equal to ${name} limit of ${quantityString(limit)}`));
      } else if (c > 0) {
        errs.push(invalid(reqPath, quantityString(q), `must be less than or equal to ${name} limit of ${quantityString(limit)}`));
      }
    } else if (!(name in limits) && !isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePageResourceName(name)) {
      reqHugePages = true;
      const e = hugePageValueError(name, q);
      if (e !== null) errs.push(invalid(path, quantityString(q), e));
    }
    if (name === 'cpu' || name === 'memory') reqCPUOrMemory = true;
  }
  if (!limCPUOrMemory && !reqCPUOrMemory && (reqHugePages || limHugePages)) {
    errs.push(forbidden(fldPath, 'HugePages require cpu or memory'));
  }
  return errs;
}
