// NodeInfo: one node as the scheduler sees it (framework.NodeInfo): the Node object, the pods on it
// (bound or assumed), their summed requests, used host ports, image and PVC bookkeeping. Every change
// bumps a global generation so the cache can refresh only changed nodes into the cycle's snapshot.

import type { Node, Taint } from '../../api/types/core_v1.ts';
import type { PodInfo } from './pod_info.ts';
import { Resource } from './resources.ts';

let generation = 0;

/** The next value of the global generation counter. */
export function nextGeneration(): number {
  return ++generation;
}

/** An image on nodes: its size and on how many nodes it is (ImageStateSummary). */
export interface ImageStateSummary {
  readonly size: number;
  readonly numNodes: number;
}

/** The wildcard host IP. */
export const DefaultBindAllHostIP = '0.0.0.0';

/** Host ports in use on a node: ip -> set of "protocol/port" (HostPortInfo). */
export class HostPortInfo {
  private readonly byIP = new Map<string, Set<string>>();

  private static sanitize(ip: string, protocol: string): [string, string] {
    return [ip === '' ? DefaultBindAllHostIP : ip, protocol === '' ? 'TCP' : protocol];
  }

  add(ip: string, protocol: string, port: number): void {
    if (port <= 0) return;
    const [i, p] = HostPortInfo.sanitize(ip, protocol);
    let set = this.byIP.get(i);
    if (set === undefined) this.byIP.set(i, (set = new Set()));
    set.add(`${p}/${port}`);
  }

  remove(ip: string, protocol: string, port: number): void {
    if (port <= 0) return;
    const [i, p] = HostPortInfo.sanitize(ip, protocol);
    const set = this.byIP.get(i);
    if (set === undefined) return;
    set.delete(`${p}/${port}`);
    if (set.size === 0) this.byIP.delete(i);
  }

  get size(): number {
    let n = 0;
    for (const s of this.byIP.values()) n += s.size;
    return n;
  }

  /** True when binding ip:port/protocol would clash with a used port (CheckConflict). */
  checkConflict(ip: string, protocol: string, port: number): boolean {
    if (port <= 0) return false;
    const [i, p] = HostPortInfo.sanitize(ip, protocol);
    const key = `${p}/${port}`;
    if (i === DefaultBindAllHostIP) {
      for (const s of this.byIP.values()) if (s.has(key)) return true;
      return false;
    }
    return (this.byIP.get(DefaultBindAllHostIP)?.has(key) ?? false) || (this.byIP.get(i)?.has(key) ?? false);
  }

  clone(): HostPortInfo {
    const c = new HostPortInfo();
    for (const [ip, s] of this.byIP) c.byIP.set(ip, new Set(s));
    return c;
  }
}

const noLabels: Readonly<Record<string, string>> = Object.freeze({});
/** The image map of nodes without images; image maps are replaced, never changed, so one is shared. */
export const noImageStates: ReadonlyMap<string, ImageStateSummary> = new Map();
const noTaints: readonly Taint[] = Object.freeze([]) as readonly Taint[];

/** One node and the pods on it, as the scheduler accounts for them. */
export class NodeInfo {
  node: Node | null = null;
  /** Name of the node ("" until a Node is set). */
  name = '';
  /** The node's labels (never undefined). */
  labels: Readonly<Record<string, string>> = noLabels;
  /** The node's taints (never undefined). */
  taints: readonly Taint[] = noTaints;
  /** spec.unschedulable, kept here so Filter need not reach into the Node object. */
  unschedulable = false;
  pods: PodInfo[] = [];
  /** pods.length, kept as a field so Filter reads one object per node. */
  numPods = 0;
  /** Pods with pod affinity or anti-affinity terms of any kind. */
  podsWithAffinity: PodInfo[] = [];
  /** Pods with required anti-affinity terms. */
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  usedPorts = new HostPortInfo();
  /** Sum of the pods' requests. */
  requested = new Resource();
  /** Sum of the pods' requests with the scoring defaults for missing cpu/memory. */
  nonZeroRequested = new Resource();
  allocatable = new Resource();
  /** Images on the node by name (replaced as a whole when the node's images change). */
  imageStates: ReadonlyMap<string, ImageStateSummary> = noImageStates;
  /** "<namespace>/<claim>" -> number of pods on the node using it. */
  pvcRefCounts = new Map<string, number>();
  generation = nextGeneration();
  /** Counts plugins derived from the pods, by what was counted; they hold for `derivedGeneration`. */
  private derived: Map<string, number> | null = null;
  private derivedGeneration = -1;
  private lastDerivedKey: string | null = null;
  private lastDerivedCount = 0;

  constructor(...pods: PodInfo[]) {
    for (const p of pods) this.addPodInfo(p);
  }

  /** Sets the Node object (NodeInfo.SetNode). */
  setNode(node: Node): void {
    this.node = node;
    this.name = node.metadata?.name ?? '';
    this.labels = node.metadata?.labels ?? noLabels;
    this.taints = node.spec?.taints ?? noTaints;
    this.unschedulable = node.spec?.unschedulable === true;
    this.allocatable = Resource.fromList(node.status?.allocatable as Record<string, unknown> | undefined);
    this.generation = nextGeneration();
  }

  /** Forgets the Node object but keeps the pods (the node was deleted while pods still reference it). */
  removeNode(): void {
    this.node = null;
    this.generation = nextGeneration();
  }

  addPodInfo(pi: PodInfo): void {
    this.pods.push(pi);
    this.numPods = this.pods.length;
    if (pi.hasAffinity) this.podsWithAffinity.push(pi);
    if (pi.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity.push(pi);
    this.update(pi, 1);
  }

  /** Removes the pod with the given uid; false when it is not on this node. */
  removePod(uid: string): boolean {
    const pods = this.pods;
    let i = pods.length - 1;
    while (i >= 0 && (pods[i] as PodInfo).uid !== uid) i--;
    if (i < 0) return false;
    const pi = this.pods[i] as PodInfo;
    // Order does not matter, so the last pod takes the removed one's place (as upstream).
    this.pods[i] = this.pods[this.pods.length - 1] as PodInfo;
    this.pods.pop();
    this.numPods = this.pods.length;
    if (this.podsWithAffinity.length > 0) removeFrom(this.podsWithAffinity, uid);
    if (this.podsWithRequiredAntiAffinity.length > 0) removeFrom(this.podsWithRequiredAntiAffinity, uid);
    this.update(pi, -1);
    return true;
  }

  private update(pi: PodInfo, sign: 1 | -1): void {
    this.requested.add(pi.requests, sign);
    const nz = pi.nonZeroRequests;
    this.nonZeroRequested.milliCPU += sign * nz.milliCPU;
    this.nonZeroRequested.memory += sign * nz.memory;
    for (const hp of pi.hostPorts) {
      if (sign > 0) this.usedPorts.add(hp.ip, hp.protocol, hp.port);
      else this.usedPorts.remove(hp.ip, hp.protocol, hp.port);
    }
    for (const key of pi.pvcKeys) {
      const n = (this.pvcRefCounts.get(key) ?? 0) + sign;
      if (n <= 0) this.pvcRefCounts.delete(key);
      else this.pvcRefCounts.set(key, n);
    }
    this.generation = nextGeneration();
  }

  /**
   * A count a plugin derived from the pods under `key`, if taken since the node last changed. Every
   * change bumps the generation and copies carry it with the same contents, so a generation check
   * is enough; keys must name everything the count depends on besides this node.
   */
  derivedCount(key: string): number | undefined {
    if (this.derivedGeneration !== this.generation) return undefined;
    // Most cycles ask for the key they asked for last.
    if (key === this.lastDerivedKey) return this.lastDerivedCount;
    const n = this.derived?.get(key);
    if (n !== undefined) {
      this.lastDerivedKey = key;
      this.lastDerivedCount = n;
    }
    return n;
  }

  /** Remembers a count derived from the pods as they are now (see derivedCount). */
  setDerivedCount(key: string, n: number): void {
    if (this.derived === null) this.derived = new Map();
    // Stale or too many entries: start over (a node rarely serves more than a few keys between changes).
    else if (this.derivedGeneration !== this.generation || this.derived.size >= 64) this.derived.clear();
    this.derivedGeneration = this.generation;
    this.derived.set(key, n);
    this.lastDerivedKey = key;
    this.lastDerivedCount = n;
  }

  /** A copy independent of this one's containers (NodeInfo.Snapshot); PodInfos are shared. */
  snapshot(): NodeInfo {
    const c = new NodeInfo();
    c.copyFrom(this);
    return c;
  }

  /** Overwrites this NodeInfo with a copy of `other`, keeping this object's identity. */
  copyFrom(other: NodeInfo): void {
    this.node = other.node;
    this.name = other.name;
    this.labels = other.labels;
    this.taints = other.taints;
    this.unschedulable = other.unschedulable;
    this.pods = other.pods.slice();
    this.numPods = other.numPods;
    this.podsWithAffinity = other.podsWithAffinity.slice();
    this.podsWithRequiredAntiAffinity = other.podsWithRequiredAntiAffinity.slice();
    this.usedPorts = other.usedPorts.size === 0 && this.usedPorts.size === 0 ? this.usedPorts : other.usedPorts.clone();
    // Values are copied into this NodeInfo's own Resource objects: allocated once, next to it in memory.
    this.requested.copyFrom(other.requested);
    this.nonZeroRequested.copyFrom(other.nonZeroRequested);
    this.allocatable.copyFrom(other.allocatable);
    // Image maps are replaced, never changed in place, so they can be shared.
    this.imageStates = other.imageStates;
    if (other.pvcRefCounts.size > 0 || this.pvcRefCounts.size > 0) this.pvcRefCounts = new Map(other.pvcRefCounts);
    this.generation = other.generation;
  }
}

function removeFrom(list: PodInfo[], uid: string): void {
  let i = list.length - 1;
  while (i >= 0 && (list[i] as PodInfo).uid !== uid) i--;
  if (i < 0) return;
  list[i] = list[list.length - 1] as PodInfo;
  list.pop();
}
