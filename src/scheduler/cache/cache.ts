// The scheduler's cache (backend/cache/cache.go): nodes and the pods on them, including pods the
// scheduler has assumed onto a node before the API confirms the binding, so the next cycle already
// counts them. Nodes sit in a list ordered by last change; updateSnapshot copies only nodes whose
// generation is newer than the snapshot's, which keeps a cycle's refresh proportional to what changed.

import type { Node, Pod } from '../../api/types/core_v1.ts';
import { realClock, type Clock } from '../framework/clock.ts';
import { NodeInfo, noImageStates, type ImageStateSummary } from '../framework/node_info.ts';
import { PodInfo } from '../framework/pod_info.ts';
import { NodeTree } from './node_tree.ts';
import type { Snapshot } from './snapshot.ts';

interface NodeItem {
  info: NodeInfo;
  prev: NodeItem | null;
  next: NodeItem | null;
}

interface PodState {
  podInfo: PodInfo;
  /** When an assumed pod whose binding finished expires (ms), or null for never. */
  deadline: number | null;
  bindingFinished: boolean;
}

/** A cached image: its size and the nodes that have it; numNodes is live. */
class ImageState implements ImageStateSummary {
  readonly size: number;
  readonly nodes = new Set<string>();

  constructor(size: number) {
    this.size = size;
  }

  get numNodes(): number {
    return this.nodes.size;
  }
}

/** A problem with the cache's bookkeeping (an event out of order); the caller logs it. */
export class CacheError extends Error {
  readonly code = 'SchedulerCache';
  constructor(message: string) {
    super(message);
    this.name = 'CacheError';
  }
}

function podKey(pod: Pod): string {
  const uid = pod.metadata?.uid;
  if (!uid) throw new CacheError('cannot get cache key for pod with empty UID');
  return uid;
}

function describe(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function nodeNameOf(pod: Pod): string {
  return pod.spec?.nodeName ?? '';
}

/** Options of the cache. */
export interface CacheOptions {
  /** How long an assumed pod whose binding finished may wait for its Add event; 0 = forever (upstream's default). */
  readonly assumedPodTTLMs?: number;
  readonly clock?: Clock;
}

/** Nodes, bound and assumed pods, images (cacheImpl). */
export class Cache {
  private readonly nodes = new Map<string, NodeItem>();
  private head: NodeItem | null = null;
  private readonly nodeTree = new NodeTree();
  private readonly podStates = new Map<string, PodState>();
  private readonly assumedPods = new Set<string>();
  private readonly imageStates = new Map<string, ImageState>();
  private readonly ttlMs: number;
  private readonly clock: Clock;
  /** Reused by updateSnapshot to collect the snapshot entries it refreshed. */
  private readonly changedScratch: NodeInfo[] = [];

  constructor(options: CacheOptions = {}) {
    this.ttlMs = options.assumedPodTTLMs ?? 0;
    this.clock = options.clock ?? realClock;
  }

  // ---- the node list ----

  private moveToHead(name: string): void {
    const item = this.nodes.get(name);
    if (item === undefined || item === this.head) return;
    if (item.prev !== null) item.prev.next = item.next;
    if (item.next !== null) item.next.prev = item.prev;
    item.prev = null;
    item.next = this.head;
    if (this.head !== null) this.head.prev = item;
    this.head = item;
  }

  private removeFromList(name: string): void {
    const item = this.nodes.get(name);
    if (item === undefined) return;
    if (item.prev !== null) item.prev.next = item.next;
    if (item.next !== null) item.next.prev = item.prev;
    if (item === this.head) this.head = item.next;
    this.nodes.delete(name);
  }

  private itemFor(name: string): NodeItem {
    let item = this.nodes.get(name);
    if (item === undefined) {
      item = { info: new NodeInfo(), prev: null, next: this.head };
      if (this.head !== null) this.head.prev = item;
      this.head = item;
      this.nodes.set(name, item);
    }
    return item;
  }

  // ---- pods ----

  private addPodInfo(pi: PodInfo, assumed: boolean): void {
    const name = nodeNameOf(pi.pod);
    this.itemFor(name).info.addPodInfo(pi);
    this.moveToHead(name);
    const key = pi.uid;
    this.podStates.set(key, { podInfo: pi, deadline: null, bindingFinished: false });
    if (assumed) this.assumedPods.add(key);
  }

  private removePodInternal(pod: Pod): void {
    const key = podKey(pod);
    const name = nodeNameOf(pod);
    const item = this.nodes.get(name);
    if (item !== undefined) {
      item.info.removePod(key);
      if (item.info.pods.length === 0 && item.info.node === null) this.removeFromList(name);
      else this.moveToHead(name);
    }
    this.podStates.delete(key);
    this.assumedPods.delete(key);
  }

  /** Counts the pod on its spec.nodeName before the binding is confirmed (AssumePod). */
  assumePod(pi: PodInfo): void {
    const key = podKey(pi.pod);
    if (this.podStates.has(key)) throw new CacheError(`pod ${key}(${describe(pi.pod)}) is in the cache, so can't be assumed`);
    this.addPodInfo(pi, true);
  }

  /** The binding call returned; the assumed pod may now expire (FinishBinding). */
  finishBinding(pod: Pod): void {
    const key = podKey(pod);
    const st = this.podStates.get(key);
    if (st !== undefined && this.assumedPods.has(key)) {
      st.deadline = this.ttlMs === 0 ? null : this.clock.now() + this.ttlMs;
      st.bindingFinished = true;
    }
  }

  /** Drops an assumed pod whose binding failed (ForgetPod). */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.podStates.get(key);
    if (st !== undefined && nodeNameOf(st.podInfo.pod) !== nodeNameOf(pod)) {
      throw new CacheError(`pod ${key}(${describe(pod)}) was assumed on ${nodeNameOf(pod)} but assigned to ${nodeNameOf(st.podInfo.pod)}`);
    }
    if (st !== undefined && this.assumedPods.has(key)) {
      this.removePodInternal(st.podInfo.pod);
      return;
    }
    throw new CacheError(`pod ${key}(${describe(pod)}) wasn't assumed so cannot be forgotten`);
  }

  /** A bound pod appeared (informer Add); confirms an assumed pod (AddPod). */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.podStates.get(key);
    if (st !== undefined && this.assumedPods.has(key)) {
      // The assumed copy is replaced by the API's version; its spec matches, so derived data is reused.
      this.removePodInternal(st.podInfo.pod);
      const pi = sameSpecExceptNode(st.podInfo.pod, pod) ? st.podInfo.withPod(pod) : new PodInfo(pod);
      this.addPodInfo(pi, false);
      return;
    }
    if (st === undefined) {
      this.addPodInfo(new PodInfo(pod), false);
      return;
    }
    throw new CacheError(`pod ${key}(${describe(pod)}) was already in added state`);
  }

  /** A bound pod changed (UpdatePod). */
  updatePod(oldPod: Pod, newPod: Pod): void {
    const key = podKey(oldPod);
    const st = this.podStates.get(key);
    if (st === undefined) throw new CacheError(`pod ${key}(${describe(oldPod)}) is not added to scheduler cache, so cannot be updated`);
    if (this.assumedPods.has(key)) throw new CacheError(`assumed pod ${key}(${describe(oldPod)}) should not be updated`);
    if (nodeNameOf(st.podInfo.pod) !== nodeNameOf(newPod)) {
      throw new CacheError(`pod ${key}(${describe(oldPod)}) updated to a different node than previously added to`);
    }
    const pi = newPod.spec === st.podInfo.pod.spec ? st.podInfo.withPod(newPod) : new PodInfo(newPod);
    this.removePodInternal(st.podInfo.pod);
    this.addPodInfo(pi, false);
  }

  /** A bound pod went away (RemovePod). */
  removePod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.podStates.get(key);
    if (st === undefined) throw new CacheError(`pod ${key}(${describe(pod)}) is not found in scheduler cache, so cannot be removed from it`);
    this.removePodInternal(st.podInfo.pod);
  }

  isAssumedPod(pod: Pod): boolean {
    return this.assumedPods.has(podKey(pod));
  }

  /** True while the cache holds the pod with this uid (assumed or added). */
  hasPod(uid: string): boolean {
    return this.podStates.has(uid);
  }

  /** The cached version of the pod, if any. */
  getPod(pod: Pod): Pod | undefined {
    return this.podStates.get(podKey(pod))?.podInfo.pod;
  }

  podCount(): number {
    let n = 0;
    for (const item of this.nodes.values()) n += item.info.pods.length;
    return n;
  }

  /** Expires assumed pods whose binding finished longer than the TTL ago (cleanupAssumedPods). */
  cleanupAssumedPods(): Pod[] {
    if (this.ttlMs === 0) return [];
    const now = this.clock.now();
    const expired: Pod[] = [];
    for (const key of [...this.assumedPods]) {
      const st = this.podStates.get(key);
      if (st === undefined || !st.bindingFinished || st.deadline === null || now <= st.deadline) continue;
      expired.push(st.podInfo.pod);
      this.removePodInternal(st.podInfo.pod);
    }
    return expired;
  }

  // ---- nodes ----

  addNode(node: Node): NodeInfo {
    const name = node.metadata?.name ?? '';
    const item = this.itemFor(name);
    this.moveToHead(name);
    if (item.info.node !== null) this.removeNodeImageStates(item.info.node);
    this.nodeTree.addNode(node);
    this.addNodeImageStates(node, item.info);
    item.info.setNode(node);
    return item.info.snapshot();
  }

  updateNode(oldNode: Node, newNode: Node): NodeInfo {
    const name = newNode.metadata?.name ?? '';
    const item = this.itemFor(name);
    if (item.info.node === null) {
      this.nodeTree.addNode(newNode);
    } else {
      this.removeNodeImageStates(item.info.node);
      this.nodeTree.updateNode(oldNode, newNode);
    }
    this.moveToHead(name);
    this.addNodeImageStates(newNode, item.info);
    item.info.setNode(newNode);
    return item.info.snapshot();
  }

  /** Removes the node; its pods (if any) keep a node-less entry until they are deleted (RemoveNode). */
  removeNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const item = this.nodes.get(name);
    if (item === undefined) throw new CacheError(`node ${name} is not found`);
    item.info.removeNode();
    if (item.info.pods.length === 0) this.removeFromList(name);
    else this.moveToHead(name);
    this.nodeTree.removeNode(node);
    this.removeNodeImageStates(node);
  }

  nodeCount(): number {
    return this.nodeTree.numNodes;
  }

  private addNodeImageStates(node: Node, info: NodeInfo): void {
    const sums = new Map<string, ImageStateSummary>();
    const name = node.metadata?.name ?? '';
    for (const image of node.status?.images ?? []) {
      for (const imageName of image.names ?? []) {
        let st = this.imageStates.get(imageName);
        if (st === undefined) {
          st = new ImageState(image.sizeBytes ?? 0);
          this.imageStates.set(imageName, st);
        }
        st.nodes.add(name);
        if (!sums.has(imageName)) sums.set(imageName, st);
      }
    }
    info.imageStates = sums.size === 0 ? noImageStates : sums;
  }

  private removeNodeImageStates(node: Node): void {
    const name = node.metadata?.name ?? '';
    for (const image of node.status?.images ?? []) {
      for (const imageName of image.names ?? []) {
        const st = this.imageStates.get(imageName);
        if (st === undefined) continue;
        st.nodes.delete(name);
        if (st.nodes.size === 0) this.imageStates.delete(imageName);
      }
    }
  }

  // ---- snapshot ----

  /**
   * Brings the snapshot up to date (UpdateSnapshot): copies nodes changed since its generation and
   * rebuilds the lists only when membership changed. Throws CacheError if the result is inconsistent
   * (after rebuilding it for the next cycle).
   */
  updateSnapshot(snapshot: Snapshot): void {
    const since = snapshot.generation;
    let updateAll = false;
    let updatePVCs = false;
    // Nodes whose membership in the affinity lists flipped; the lists are patched, not rebuilt.
    let flipped: Flip[] | null = null;
    let changed = 0;
    for (let item = this.head; item !== null; item = item.next) {
      if (item.info.generation <= since) break;
      const info = item.info;
      if (info.node === null) continue;
      let existing = snapshot.nodeInfoMap.get(info.name);
      if (existing === undefined) {
        updateAll = true;
        existing = new NodeInfo();
        snapshot.nodeInfoMap.set(info.name, existing);
      }
      const hadAffinity = existing.podsWithAffinity.length > 0;
      const hadAnti = existing.podsWithRequiredAntiAffinity.length > 0;
      if (!updatePVCs && !samePVCKeys(existing.pvcRefCounts, info.pvcRefCounts)) updatePVCs = true;
      // The object stays the same so nodeInfoList need not be rebuilt.
      existing.copyFrom(info);
      if (!updateAll && (hadAffinity !== info.podsWithAffinity.length > 0 || hadAnti !== info.podsWithRequiredAntiAffinity.length > 0)) {
        (flipped ??= []).push({ ni: existing, hadAffinity, hadAnti });
      }
      this.changedScratch[changed++] = existing;
    }
    // The log lists changes oldest first, as a replay expects.
    for (let i = changed - 1; i >= 0; i--) snapshot.noteChanged(this.changedScratch[i] as NodeInfo);
    this.changedScratch.length = 0;
    if (this.head !== null) snapshot.generation = this.head.info.generation;
    if (snapshot.nodeInfoMap.size > this.nodeTree.numNodes) {
      for (const name of [...snapshot.nodeInfoMap.keys()]) {
        const item = this.nodes.get(name);
        if (item === undefined || item.info.node === null) snapshot.nodeInfoMap.delete(name);
      }
      updateAll = true;
    }
    if (updateAll) {
      snapshot.resetChangeLog();
      this.updateSnapshotLists(snapshot, true);
    } else {
      if (flipped !== null) patchAffinityLists(snapshot, flipped);
      if (updatePVCs) this.updateSnapshotLists(snapshot, false);
    }
    if (snapshot.nodeInfoList.length !== this.nodeTree.numNodes) {
      const msg = `snapshot state is not consistent, length of NodeInfoList=${snapshot.nodeInfoList.length} not equal to length of nodes in tree=${this.nodeTree.numNodes} , length of NodeInfoMap=${snapshot.nodeInfoMap.size}, length of nodes in cache=${this.nodes.size}, trying to recover`;
      snapshot.resetChangeLog();
      this.updateSnapshotLists(snapshot, true);
      throw new CacheError(msg);
    }
  }

  private updateSnapshotLists(snapshot: Snapshot, updateAll: boolean): void {
    if (!updateAll) {
      snapshot.usedPVCSet = new Set();
      for (const ni of snapshot.nodeInfoList) for (const k of ni.pvcRefCounts.keys()) snapshot.usedPVCSet.add(k);
      return;
    }
    snapshot.havePodsWithAffinityNodeInfoList = [];
    snapshot.havePodsWithRequiredAntiAffinityNodeInfoList = [];
    snapshot.usedPVCSet = new Set();
    if (updateAll) {
      snapshot.nodeInfoList = [];
      for (const name of this.nodeTree.list()) {
        const ni = snapshot.nodeInfoMap.get(name);
        if (ni !== undefined) snapshot.nodeInfoList.push(ni);
      }
    }
    for (const ni of snapshot.nodeInfoList) {
      if (ni.podsWithAffinity.length > 0) snapshot.havePodsWithAffinityNodeInfoList.push(ni);
      if (ni.podsWithRequiredAntiAffinity.length > 0) snapshot.havePodsWithRequiredAntiAffinityNodeInfoList.push(ni);
      for (const k of ni.pvcRefCounts.keys()) snapshot.usedPVCSet.add(k);
    }
  }
}

/** A snapshot node whose membership in the affinity lists may have changed. */
interface Flip {
  readonly ni: NodeInfo;
  readonly hadAffinity: boolean;
  readonly hadAnti: boolean;
}

/**
 * Adds or removes the nodes whose affinity-list membership changed, in place: plugins read the
 * lists only within a cycle, and only to sum over them, so their order does not matter.
 */
function patchAffinityLists(snapshot: Snapshot, flipped: readonly Flip[]): void {
  for (const f of flipped) {
    patchList(snapshot.havePodsWithAffinityNodeInfoList, f.ni, f.hadAffinity, f.ni.podsWithAffinity.length > 0);
    patchList(snapshot.havePodsWithRequiredAntiAffinityNodeInfoList, f.ni, f.hadAnti, f.ni.podsWithRequiredAntiAffinity.length > 0);
  }
}

function patchList(list: NodeInfo[], ni: NodeInfo, was: boolean, is: boolean): void {
  if (was === is) return;
  if (is) {
    list.push(ni);
    return;
  }
  const i = list.indexOf(ni);
  if (i < 0) return;
  list[i] = list[list.length - 1] as NodeInfo;
  list.pop();
}

function samePVCKeys(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const k of b.keys()) if (!a.has(k)) return false;
  return true;
}

/** True when the pods differ at most in spec.nodeName (an assumed pod and its bound version). */
function sameSpecExceptNode(a: Pod, b: Pod): boolean {
  if (a.spec === b.spec) return true;
  if (!a.spec || !b.spec) return false;
  return a.spec.containers === b.spec.containers && a.spec.initContainers === b.spec.initContainers &&
    a.spec.affinity === b.spec.affinity && a.spec.volumes === b.spec.volumes && a.spec.overhead === b.spec.overhead;
}
