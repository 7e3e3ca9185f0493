// LimitRanger admission: containers get the default requests and limits of the namespace's
// LimitRanges (type Container), then pods and claims are checked against each range's min, max and
// maxLimitRequestRatio, with upstream's messages and its kubernetes.io/limit-ranger annotation.
import { quantityMilliValue, quantityValue, type Quantity } from '../../api/quantity.ts';
import { forbidden, getArr, getObj, getStr, metaOf, objField, type Obj } from './plugin_util.ts';
import { containerResources, parseResourceList, podResources, qString, type ResourceList } from './resource_lists.ts';
import { registerAdmissionPlugin, type AdmissionAttributes, type AdmissionPlugin } from './types.ts';

/** The annotation recording what LimitRanger set. */
export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

/** resource.MaxMilliValue: above it upstream compares whole units rather than milli-units. */
const MAX_MILLI_VALUE = (2n ** 63n - 1n) / 1000n;

/** Request, limit and enforced values at one common precision (requestLimitEnforcedValues). */
function enforcedValues(req: Quantity | undefined, lim: Quantity | undefined, enforced: Quantity): [bigint, bigint, bigint] {
  let r = req ? quantityValue(req) : 0n, l = lim ? quantityValue(lim) : 0n, e = quantityValue(enforced);
  if (r <= MAX_MILLI_VALUE && l <= MAX_MILLI_VALUE && e <= MAX_MILLI_VALUE) {
    r = req ? quantityMilliValue(req) : 0n;
    l = lim ? quantityMilliValue(lim) : 0n;
    e = quantityMilliValue(enforced);
  }
  return [r, l, e];
}

function minConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests.get(name), lim = limits.get(name);
  const [r, l, e] = enforcedValues(req, lim, enforced);
  if (!req) return `minimum ${name} usage per ${type} is ${qString(enforced)}.  No request is specified`;
  if (r < e) return `minimum ${name} usage per ${type} is ${qString(enforced)}, but request is ${qString(req)}`;
  if (lim && l < e) return `minimum ${name} usage per ${type} is ${qString(enforced)}, but limit is ${qString(lim)}`;
  return undefined;
}

function maxConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests.get(name), lim = limits.get(name);
  const [r, l, e] = enforcedValues(req, lim, enforced);
  if (!lim) return `maximum ${name} usage per ${type} is ${qString(enforced)}.  No limit is specified`;
  if (l > e) return `maximum ${name} usage per ${type} is ${qString(enforced)}, but limit is ${qString(lim)}`;
  if (req && r > e) return `maximum ${name} usage per ${type} is ${qString(enforced)}, but request is ${qString(req)}`;
  return undefined;
}

/** The max of a claim applies to its request (claims have no limits). */
function maxRequestConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList): string | undefined {
  const req = requests.get(name);
  const [r, , e] = enforcedValues(req, undefined, enforced);
  if (!req) return `maximum ${name} usage per ${type} is ${qString(enforced)}.  No request is specified`;
  if (r > e) return `maximum ${name} usage per ${type} is ${qString(enforced)}, but request is ${qString(req)}`;
  return undefined;
}

/** Go's %f. */
function goFloat(x: number): string {
  return x.toFixed(6);
}

function ratioConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests.get(name), lim = limits.get(name);
  const [r, l] = enforcedValues(req, lim, enforced);
  if (!req || r === 0n) return `${name} max limit to request ratio per ${type} is ${qString(enforced)}, but no request is specified or request is 0`;
  if (!lim || l === 0n) return `${name} max limit to request ratio per ${type} is ${qString(enforced)}, but no limit is specified or limit is 0`;
  const observed = Number(l) / Number(r);
  let compared = observed;
  let max = Number(quantityValue(enforced));
  if (quantityValue(enforced) <= MAX_MILLI_VALUE) {
    compared = observed * 1000;
    max = Number(quantityMilliValue(enforced));
  }
  if (compared > max) return `${name} max limit to request ratio per ${type} is ${qString(enforced)}, but provided ratio is ${goFloat(observed)}`;
  return undefined;
}

type Check = (type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList) => string | undefined;

/** Which LimitRangeItem field is checked by which constraint: data, in upstream's order. */
const CONSTRAINTS: ReadonlyArray<readonly [field: string, check: Check]> = [
  ['min', minConstraint],
  ['max', maxConstraint],
  ['maxLimitRequestRatio', ratioConstraint],
];

function checkAll(item: Obj, type: string, requests: ResourceList, limits: ResourceList, errs: string[]): void {
  for (const [field, check] of CONSTRAINTS) {
    for (const [name, enforced] of parseResourceList(item[field])) {
      const e = check(type, name, enforced, requests, limits);
      if (e) errs.push(e);
    }
  }
}

function items(lr: Obj): Obj[] {
  return getArr(getObj(lr, 'spec'), 'limits');
}

/** Default requests and limits of type Container items (later items win, as upstream's map writes). */
function containerDefaults(lr: Obj): { requests: Record<string, unknown>; limits: Record<string, unknown> } {
  const requests: Record<string, unknown> = {}, limits: Record<string, unknown> = {};
  for (const item of items(lr)) {
    if (getStr(item, 'type') !== 'Container') continue;
    Object.assign(requests, getObj(item, 'defaultRequest') ?? {});
    Object.assign(limits, getObj(item, 'default') ?? {});
  }
  return { requests, limits };
}

function mergeContainer(c: Obj, defaults: { requests: Record<string, unknown>; limits: Record<string, unknown> }, what: string, notes: string[]): void {
  const resources = objField(c, 'resources');
  const setLimits: string[] = [], setRequests: string[] = [];
  const limits = objField(resources, 'limits');
  for (const [k, v] of Object.entries(defaults.limits)) {
    if (!(k in limits)) {
      limits[k] = v;
      setLimits.push(k);
    }
  }
  const requests = objField(resources, 'requests');
  for (const [k, v] of Object.entries(defaults.requests)) {
    if (!(k in requests)) {
      requests[k] = v;
      setRequests.push(k);
    }
  }
  if (Object.keys(limits).length === 0) delete resources['limits'];
  if (Object.keys(requests).length === 0) delete resources['requests'];
  const name = getStr(c, 'name');
  if (setRequests.length > 0) notes.push(`${setRequests.sort().join(', ')} request for ${what} ${name}`);
  if (setLimits.length > 0) notes.push(`${setLimits.sort().join(', ')} limit for ${what} ${name}`);
}

/** Applies one LimitRange's container defaults to a pod (PodMutateLimitFunc). */
export function mutatePod(lr: Obj, pod: Obj): void {
  const defaults = containerDefaults(lr);
  const spec = objField(pod, 'spec');
  const notes: string[] = [];
  for (const c of getArr(spec, 'containers')) mergeContainer(c, defaults, 'container', notes);
  for (const c of getArr(spec, 'initContainers')) mergeContainer(c, defaults, 'init container', notes);
  if (notes.length > 0) objField(objField(pod, 'metadata'), 'annotations')[LIMIT_RANGER_ANNOTATION] = `LimitRanger plugin set: ${notes.join('; ')}`;
}

/** The violations of one LimitRange by a pod (PodValidateLimitFunc). */
export function validatePod(lr: Obj, pod: Obj): string[] {
  const errs: string[] = [];
  const spec = getObj(pod, 'spec') ?? {};
  for (const item of items(lr)) {
    const type = getStr(item, 'type');
    if (type === 'Container') {
      for (const c of [...getArr(spec, 'containers'), ...getArr(spec, 'initContainers')]) {
        checkAll(item, type, containerResources(c, 'requests'), containerResources(c, 'limits'), errs);
      }
    } else if (type === 'Pod') {
      checkAll(item, type, podResources(spec, 'requests', false), podResources(spec, 'limits', false), errs);
    }
  }
  return errs;
}

/** The violations of one LimitRange by a claim (PersistentVolumeClaimValidateLimitFunc). */
export function validateClaim(lr: Obj, pvc: Obj): string[] {
  const errs: string[] = [];
  const requests = parseResourceList(getObj(getObj(getObj(pvc, 'spec'), 'resources'), 'requests'));
  for (const item of items(lr)) {
    const type = getStr(item, 'type');
    if (type !== 'PersistentVolumeClaim') continue;
    for (const [name, enforced] of parseResourceList(item['min'])) {
      const e = minConstraint(type, name, enforced, requests, new Map());
      if (e) errs.push(e);
    }
    for (const [name, enforced] of parseResourceList(item['max'])) {
      const e = maxRequestConstraint(type, name, enforced, requests);
      if (e) errs.push(e);
    }
  }
  return errs;
}

/** utilerrors.NewAggregate(errs).Error(): one message bare, several in brackets. */
function aggregate(errs: readonly string[]): string {
  const unique = [...new Set(errs)];
  return unique.length === 1 ? unique[0] as string : `[${unique.join(', ')}]`;
}

function supports(a: AdmissionAttributes): boolean {
  if (a.subresource !== '' || a.info.group !== '') return false;
  // Containers cannot change after creation, so pod updates are left alone.
  if (a.info.resource === 'pods') return a.operation === 'CREATE';
  return a.info.resource === 'persistentvolumeclaims' && (a.operation === 'CREATE' || a.operation === 'UPDATE');
}

function createLimitRanger(): AdmissionPlugin {
  function run(a: AdmissionAttributes, lrs: readonly Obj[], fn: (lr: Obj, obj: Obj) => string[] | void): void {
    if (!a.object) return;
    if (a.oldObject && getStr(metaOf(a.oldObject), 'deletionTimestamp') !== '') return;
    for (const lr of lrs) {
      const errs = fn(lr, a.object);
      if (errs && errs.length > 0) throw forbidden(a, aggregate(errs));
    }
  }
  return {
    name: 'LimitRanger',
    handles: supports,
    admit(a, lister) {
      if (a.info.resource !== 'pods') return;
      run(a, lister.list('', 'limitranges', a.namespace), mutatePod);
    },
    validate(a, lister) {
      run(a, lister.list('', 'limitranges', a.namespace), a.info.resource === 'pods' ? validatePod : validateClaim);
    },
  };
}

registerAdmissionPlugin('LimitRanger', createLimitRanger);
