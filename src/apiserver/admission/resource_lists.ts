// ResourceList arithmetic for admission (upstream's quota helpers and resourcehelper): lists of
// named quantities parsed from JSON, added, maxed, masked and printed as upstream prints them.
import {
  addQuantity, cmpQuantity, newQuantity, parseQuantity, quantityString, tryParseQuantity, type Quantity,
} from '../../api/quantity.ts';
import { getArr, getMap, getObj, getStr, type Obj } from './plugin_util.ts';

/** A ResourceList: resource name -> quantity. */
export type ResourceList = Map<string, Quantity>;

/** Parses a JSON ResourceList; unparseable values are skipped (validation reports them). */
export function parseResourceList(v: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    const q = typeof raw === 'string' ? tryParseQuantity(raw) : typeof raw === 'number' ? tryParseQuantity(String(raw)) : null;
    if (q) out.set(k, q);
  }
  return out;
}

/** A count quantity (DecimalSI). */
export function count(n: number): Quantity {
  return newQuantity(n, 'DecimalSI');
}

/** a + b for every name in either. */
export function addLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, v] of b) {
    const cur = out.get(k);
    out.set(k, cur ? addQuantity(cur, v) : v);
  }
  return out;
}

/** Sets a[k] = max(a[k], b[k]) for every name in b (in place). */
export function maxInto(a: ResourceList, b: ResourceList): void {
  for (const [k, v] of b) {
    const cur = a.get(k);
    if (!cur || cmpQuantity(v, cur) > 0) a.set(k, v);
  }
}

/** Entries of `a` whose names are in `names`. */
export function mask(a: ResourceList, names: Iterable<string>): ResourceList {
  const set = new Set(names);
  return new Map([...a].filter(([k]) => set.has(k)));
}

/** Value equality of two JSON ResourceLists (apiequality.Semantic on quantities). */
export function resourceListsEqual(a: unknown, b: unknown): boolean {
  const la = parseResourceList(a), lb = parseResourceList(b);
  if (la.size !== lb.size) return false;
  for (const [k, v] of la) {
    const w = lb.get(k);
    if (!w || cmpQuantity(v, w) !== 0) return false;
  }
  return true;
}

/** `a=1,b=2Gi`, names sorted (upstream's prettyPrint). */
export function prettyPrint(a: ResourceList): string {
  return [...a.keys()].sort().map((k) => `${k}=${quantityString(a.get(k) as Quantity)}`).join(',');
}

/** The quantity as upstream's Quantity.String() prints it. */
export function qString(q: Quantity): string {
  return quantityString(q);
}

/** Parses a quantity string or throws. */
export function q(s: string): Quantity {
  return parseQuantity(s);
}

/** Requests or limits of a container as a ResourceList. */
export function containerResources(c: Obj, which: 'requests' | 'limits'): ResourceList {
  return parseResourceList(getObj(getObj(c, 'resources'), which));
}

/**
 * A pod's effective requests or limits (resourcehelper.PodRequests/PodLimits): the sum over
 * containers, sidecar init containers (restartPolicy Always) added, the max with each regular init
 * container, and the pod overhead when `withOverhead`.
 */
export function podResources(spec: Obj, which: 'requests' | 'limits', withOverhead: boolean): ResourceList {
  let total: ResourceList = new Map();
  for (const c of getArr(spec, 'containers')) total = addLists(total, containerResources(c, which));
  let sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of getArr(spec, 'initContainers')) {
    const r = containerResources(c, which);
    if (getStr(c, 'restartPolicy') === 'Always') {
      total = addLists(total, r);
      sidecars = addLists(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      maxInto(initMax, addLists(r, sidecars));
    }
  }
  maxInto(total, initMax);
  if (withOverhead) {
    const overhead = parseResourceList(getMap(spec, 'overhead'));
    if (which === 'requests') total = addLists(total, overhead);
    else for (const [k, v] of overhead) if (total.has(k)) total.set(k, addQuantity(total.get(k) as Quantity, v));
  }
  return total;
}
