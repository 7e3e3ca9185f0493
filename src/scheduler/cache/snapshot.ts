// The per-cycle view of the cluster (cache/snapshot.go): NodeInfo copies taken from the cache at the
// start of each cycle, refreshed incrementally by generation, plus the lists plugins iterate (nodes
// in zone-interleaved order, nodes with affinity pods, PVCs in use) and a log of the nodes each
// refresh changed, so plugins can keep per-node sums across cycles (framework/node_fold.ts).

import type { Node, Pod } from '../../api/types/core_v1.ts';
import type { NodeChangeLog, NodeInfoLister, SharedLister } from '../framework/interface.ts';
import { NodeInfo } from '../framework/node_info.ts';
import { PodInfo } from '../framework/pod_info.ts';

/** A consistent copy of the cache's nodes for one scheduling cycle. */
export class Snapshot implements SharedLister, NodeInfoLister {
  nodeInfoMap = new Map<string, NodeInfo>();
  nodeInfoList: NodeInfo[] = [];
  havePodsWithAffinityNodeInfoList: NodeInfo[] = [];
  havePodsWithRequiredAntiAffinityNodeInfoList: NodeInfo[] = [];
  usedPVCSet = new Set<string>();
  /** The cache generation this snapshot reflects. */
  generation = 0;
  /** Changes since the node set last changed; null for snapshots built from objects (never refreshed). */
  private log: { epoch: number; nodes: NodeInfo[] } | null = { epoch: 0, nodes: [] };

  /** A snapshot built directly from objects (NewSnapshot), for tests and tools. */
  static fromObjects(pods: readonly Pod[], nodes: readonly Node[]): Snapshot {
    const s = new Snapshot();
    // Tests change these NodeInfos in place, so folds must recount them every time.
    s.log = null;
    const byName = new Map<string, NodeInfo>();
    // Image states as the cache computes them: per image name, its size and how many nodes have it.
    const images = new Map<string, { size: number; numNodes: number }>();
    for (const n of nodes) {
      for (const img of n.status?.images ?? []) {
        for (const name of img.names ?? []) {
          const st = images.get(name) ?? { size: img.sizeBytes ?? 0, numNodes: 0 };
          st.numNodes++;
          images.set(name, st);
        }
      }
    }
    for (const n of nodes) {
      const ni = new NodeInfo();
      ni.setNode(n);
      const own = new Map<string, { size: number; numNodes: number }>();
      for (const img of n.status?.images ?? []) for (const name of img.names ?? []) own.set(name, images.get(name)!);
      if (own.size > 0) ni.imageStates = own;
      byName.set(ni.name, ni);
    }
    for (const p of pods) {
      const nodeName = p.spec?.nodeName ?? '';
      let ni = byName.get(nodeName);
      if (ni === undefined) {
        ni = new NodeInfo();
        byName.set(nodeName, ni);
      }
      ni.addPodInfo(new PodInfo(p));
    }
    for (const n of nodes) {
      const ni = byName.get(n.metadata?.name ?? '') as NodeInfo;
      s.nodeInfoMap.set(ni.name, ni);
      s.nodeInfoList.push(ni);
      if (ni.podsWithAffinity.length > 0) s.havePodsWithAffinityNodeInfoList.push(ni);
      if (ni.podsWithRequiredAntiAffinity.length > 0) s.havePodsWithRequiredAntiAffinityNodeInfoList.push(ni);
      for (const k of ni.pvcRefCounts.keys()) s.usedPVCSet.add(k);
    }
    return s;
  }

  /** Records that the refresh copied new contents into `ni` (an entry of nodeInfoMap). */
  noteChanged(ni: NodeInfo): void {
    if (this.log === null) return;
    this.log.nodes.push(ni);
    // Past a few entries per node a recount costs less than replaying the log.
    if (this.log.nodes.length > 4 * this.nodeInfoMap.size + 1024) this.resetChangeLog();
  }

  /** Starts a new log epoch: the node set changed (or the log grew long), so folds recount. */
  resetChangeLog(): void {
    if (this.log === null) return;
    this.log = { epoch: this.log.epoch + 1, nodes: [] };
  }

  changeLog(): NodeChangeLog | null {
    return this.log;
  }

  nodeInfos(): NodeInfoLister {
    return this;
  }

  numNodes(): number {
    return this.nodeInfoList.length;
  }

  list(): readonly NodeInfo[] {
    return this.nodeInfoList;
  }

  havePodsWithAffinityList(): readonly NodeInfo[] {
    return this.havePodsWithAffinityNodeInfoList;
  }

  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[] {
    return this.havePodsWithRequiredAntiAffinityNodeInfoList;
  }

  get(nodeName: string): NodeInfo | undefined {
    const ni = this.nodeInfoMap.get(nodeName);
    return ni !== undefined && ni.node !== null ? ni : undefined;
  }

  isPVCUsedByPods(key: string): boolean {
    return this.usedPVCSet.has(key);
  }
}
