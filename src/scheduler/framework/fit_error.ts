// Why a pod fits no node: per-node statuses (NodeToStatus), the Diagnosis of a cycle and FitError,
// whose message is the one users read in FailedScheduling events and the PodScheduled condition:
// "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. preemption: ..."

import type { Pod } from '../../api/types/core_v1.ts';
import { Code, Status, type NodeToStatusReader } from './interface.ts';
import type { NodeInfo } from './node_info.ts';

/** Statuses of the nodes that failed Filter; nodes not listed share absentNodesStatus. */
export class NodeToStatus implements NodeToStatusReader {
  private readonly byNode = new Map<string, Status>();
  private absent: Status;

  constructor(absentNodesStatus: Status = new Status(Code.UnschedulableAndUnresolvable)) {
    this.absent = absentNodesStatus;
  }

  get(nodeName: string): Status {
    return this.byNode.get(nodeName) ?? this.absent;
  }

  set(nodeName: string, status: Status): void {
    this.byNode.set(nodeName, status);
  }

  /** Number of nodes with an explicit status. */
  get size(): number {
    return this.byNode.size;
  }

  absentNodesStatus(): Status {
    return this.absent;
  }

  setAbsentNodesStatus(status: Status): void {
    this.absent = status;
  }

  forEachExplicitNode(fn: (nodeName: string, status: Status) => void): void {
    for (const [n, s] of this.byNode) fn(n, s);
  }

  nodesForStatusCode(nodes: readonly NodeInfo[], code: Code): NodeInfo[] {
    if (this.absent.code === code && this.byNode.size === 0) return nodes.slice();
    const out: NodeInfo[] = [];
    for (const n of nodes) if (this.get(n.name).code === code) out.push(n);
    return out;
  }
}

/** What went wrong in a scheduling attempt (framework.Diagnosis). */
export class Diagnosis {
  nodeToStatus = new NodeToStatus();
  /** Plugins that rejected the pod; the queue retries it on events they registered for. */
  unschedulablePlugins = new Set<string>();
  /** Plugins that returned Pending. */
  pendingPlugins = new Set<string>();
  /** The PreFilter rejection message, if PreFilter rejected the pod. */
  preFilterMsg = '';
  /** The PostFilter (preemption) message. */
  postFilterMsg = '';

  /** Records the plugin behind a rejecting or pending status (AddPluginStatus). */
  addPluginStatus(s: Status): void {
    if (s.plugin === '') return;
    if (s.isRejected()) this.unschedulablePlugins.add(s.plugin);
    if (s.code === Code.Pending) this.pendingPlugins.add(s.plugin);
  }
}

/** The NoNodeAvailableMsg prefix. */
export function noNodeAvailableMsg(numAllNodes: number): string {
  return `0/${numAllNodes} nodes are available`;
}

/** FitError.Error(): the prefix, the PreFilter message or the sorted reasons histogram, then PostFilter's. */
export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `${noNodeAvailableMsg(numAllNodes)}:`;
  if (d.preFilterMsg !== '') {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const reasons = new Map<string, number>();
    const count = (r: string, n: number): void => {
      reasons.set(r, (reasons.get(r) ?? 0) + n);
    };
    d.nodeToStatus.forEachExplicitNode((_n, s) => {
      for (const r of s.allReasons()) count(r, 1);
    });
    const absent = numAllNodes - d.nodeToStatus.size;
    if (absent > 0) {
      for (const r of d.nodeToStatus.absentNodesStatus().allReasons()) count(r, absent);
    }
    // sort.Strings: byte order, so "10 x" sorts before "2 y" as upstream prints it.
    const parts = [...reasons].map(([r, n]) => `${n} ${r}`).sort(compareBytes);
    if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  }
  if (d.postFilterMsg !== '') msg += ` ${d.postFilterMsg}`;
  return msg;
}

function compareBytes(a: string, b: string): number {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
}

/** No node fits the pod (framework.FitError); the message follows the diagnosis. */
export class FitError extends Error {
  readonly pod: Pod;
  readonly numAllNodes: number;
  readonly diagnosis: Diagnosis;

  constructor(pod: Pod, numAllNodes: number, diagnosis: Diagnosis) {
    super(fitErrorMessage(numAllNodes, diagnosis));
    this.name = 'FitError';
    this.pod = pod;
    this.numAllNodes = numAllNodes;
    this.diagnosis = diagnosis;
  }

  /** Sets the PostFilter message and recomputes the text. */
  setPostFilterMsg(msg: string): void {
    this.diagnosis.postFilterMsg = msg;
    this.message = fitErrorMessage(this.numAllNodes, this.diagnosis);
  }
}
