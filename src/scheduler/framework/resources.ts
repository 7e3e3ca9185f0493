// Resource arithmetic for scheduling: the Resource sum (millicores, bytes, pod count, scalar
// resources) and a pod's effective requests as upstream computes them (resourcehelper.PodRequests:
// containers summed, init containers as a max with restartable sidecars added, plus overhead).
// Quantities are parsed once per distinct string; values are plain numbers (exact below 2^53).

import { parseQuantity, quantityFromJSON, quantityMilliValue, quantityValue } from '../../api/quantity.ts';
import type { Container, Pod } from '../../api/types/core_v1.ts';

/** Default CPU request (millicores) assumed for scoring when a container sets none. */
export const DefaultMilliCPURequest = 100;
/** Default memory request (bytes) assumed for scoring when a container sets none: 200Mi. */
export const DefaultMemoryRequest = 200 * 1024 * 1024;

const ResourceCPU = 'cpu';
const ResourceMemory = 'memory';
const ResourceEphemeralStorage = 'ephemeral-storage';
const ResourcePods = 'pods';

interface ParsedQuantity {
  readonly milli: number;
  readonly value: number;
}

const parsed = new Map<string, ParsedQuantity>();
const zeroQuantity: ParsedQuantity = { milli: 0, value: 0 };

function parse(q: unknown): ParsedQuantity {
  const key = typeof q === 'number' ? String(q) : typeof q === 'string' ? q : '';
  let p = parsed.get(key);
  if (p === undefined) {
    try {
      const quantity = typeof q === 'number' ? quantityFromJSON(q) : parseQuantity(key);
      p = { milli: Number(quantityMilliValue(quantity)), value: Number(quantityValue(quantity)) };
    } catch {
      // The apiserver validates quantities; anything unparsable counts as zero rather than failing a cycle.
      p = zeroQuantity;
    }
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(key, p);
  }
  return p;
}

/** Quantity.MilliValue of a JSON quantity. */
export function milliValue(q: unknown): number {
  return parse(q).milli;
}

/** Quantity.Value (rounded up) of a JSON quantity. */
export function quantityNumber(q: unknown): number {
  return parse(q).value;
}

/** IsPrefixedNativeResource: names in the kubernetes.io/ namespace. */
function isPrefixedNativeResource(name: string): boolean {
  return name.includes('kubernetes.io/');
}

/** IsNativeResource: unprefixed names and kubernetes.io/ names. */
function isNativeResource(name: string): boolean {
  return !name.includes('/') || isPrefixedNativeResource(name);
}

const qualifiedNameRe = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** IsExtendedResourceName: a domain-prefixed name outside kubernetes.io that fits quota names. */
export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  const forQuota = `requests.${name}`;
  const slash = forQuota.indexOf('/');
  const prefix = slash >= 0 ? forQuota.slice(0, slash) : '';
  const local = slash >= 0 ? forQuota.slice(slash + 1) : forQuota;
  return qualifiedNameRe.test(forQuota) && prefix.length <= 253 && local.length <= 63;
}

/** IsScalarResourceName: extended, hugepages-*, kubernetes.io/-prefixed or attachable-volumes-*. */
export function isScalarResourceName(name: string): boolean {
  return isExtendedResourceName(name) || name.startsWith('hugepages-') || isPrefixedNativeResource(name) ||
    name.startsWith('attachable-volumes-');
}

/** The sums the scheduler tracks per node and per pod (framework.Resource). */
export class Resource {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  allowedPodNumber = 0;
  /** Extended, hugepages and other scalar resources; null until one is set. */
  scalarResources: Map<string, number> | null = null;

  /** NewResource(ResourceList). */
  static fromList(rl: Readonly<Record<string, unknown>> | null | undefined): Resource {
    const r = new Resource();
    r.addList(rl);
    return r;
  }

  /** Adds a ResourceList (Resource.Add). */
  addList(rl: Readonly<Record<string, unknown>> | null | undefined): void {
    if (!rl) return;
    for (const name in rl) {
      const q = rl[name];
      switch (name) {
        case ResourceCPU: this.milliCPU += milliValue(q); break;
        case ResourceMemory: this.memory += quantityNumber(q); break;
        case ResourcePods: this.allowedPodNumber += quantityNumber(q); break;
        case ResourceEphemeralStorage: this.ephemeralStorage += quantityNumber(q); break;
        default:
          if (isScalarResourceName(name)) this.addScalar(name, quantityNumber(q));
      }
    }
  }

  /** Adds (sign 1) or subtracts (sign -1) another Resource. */
  add(other: Resource, sign = 1): void {
    this.milliCPU += sign * other.milliCPU;
    this.memory += sign * other.memory;
    this.ephemeralStorage += sign * other.ephemeralStorage;
    this.allowedPodNumber += sign * other.allowedPodNumber;
    if (other.scalarResources !== null) {
      for (const [k, v] of other.scalarResources) this.addScalar(k, sign * v);
    }
  }

  /** Raises each field to the other's value where that is larger (SetMaxResource). */
  setMax(other: Resource): void {
    this.milliCPU = Math.max(this.milliCPU, other.milliCPU);
    this.memory = Math.max(this.memory, other.memory);
    this.ephemeralStorage = Math.max(this.ephemeralStorage, other.ephemeralStorage);
    this.allowedPodNumber = Math.max(this.allowedPodNumber, other.allowedPodNumber);
    if (other.scalarResources !== null) {
      for (const [k, v] of other.scalarResources) this.setScalar(k, Math.max(this.scalar(k), v));
    }
  }

  scalar(name: string): number {
    return this.scalarResources?.get(name) ?? 0;
  }

  addScalar(name: string, v: number): void {
    this.setScalar(name, this.scalar(name) + v);
  }

  setScalar(name: string, v: number): void {
    (this.scalarResources ??= new Map()).set(name, v);
  }

  clone(): Resource {
    const r = new Resource();
    r.copyFrom(this);
    return r;
  }

  copyFrom(other: Resource): void {
    this.milliCPU = other.milliCPU;
    this.memory = other.memory;
    this.ephemeralStorage = other.ephemeralStorage;
    this.allowedPodNumber = other.allowedPodNumber;
    this.scalarResources = other.scalarResources === null || other.scalarResources.size === 0 ? null : new Map(other.scalarResources);
  }
}

function containerRequests(c: Container, nonMissing: boolean): Resource {
  const requests = c.resources?.requests as Record<string, unknown> | undefined;
  const r = Resource.fromList(requests);
  if (nonMissing) {
    // Only an absent request gets the default; an explicit 0 stays 0 (applyNonMissing).
    if (requests === undefined || !(ResourceCPU in requests)) r.milliCPU += DefaultMilliCPURequest;
    if (requests === undefined || !(ResourceMemory in requests)) r.memory += DefaultMemoryRequest;
  }
  return r;
}

/**
 * The pod's effective requests (resourcehelper.PodRequests). With `nonMissing`, containers without
 * a cpu or memory request count the scoring defaults (100m, 200Mi) instead of nothing.
 */
export function podRequests(pod: Pod, nonMissing = false): Resource {
  const spec = pod.spec;
  const reqs = new Resource();
  if (!spec) return reqs;
  for (const c of spec.containers ?? []) reqs.add(containerRequests(c, nonMissing));
  const initContainers = spec.initContainers;
  if (initContainers && initContainers.length > 0) {
    const restartable = new Resource();
    const initMax = new Resource();
    for (const c of initContainers) {
      const r = containerRequests(c, nonMissing);
      if (c.restartPolicy === 'Always') {
        // Sidecars keep running next to the app containers, so they add up.
        reqs.add(r);
        restartable.add(r);
        initMax.setMax(restartable);
      } else {
        r.add(restartable);
        initMax.setMax(r);
      }
    }
    reqs.setMax(initMax);
  }
  if (spec.overhead) reqs.addList(spec.overhead as Record<string, unknown>);
  return reqs;
}
