// The kubelet's predicate admission (upstream's lifecycle predicateAdmitHandler and
// scheduler.AdmissionCheck): a pod bound to this node, by the scheduler or by nodeName, is
// rejected when it does not fit next to the pods already admitted (resources: OutOfcpu,
// OutOfmemory, OutOfpods …), when its required node affinity or host ports do not fit, or when it
// does not tolerate a NoExecute taint.
import type { Node, Pod } from '../api/types/core_v1.ts';
import { RequiredNodeAffinity } from '../scheduler/framework/node_affinity.ts';
import { NodeInfo } from '../scheduler/framework/node_info.ts';
import { PodInfo } from '../scheduler/framework/pod_info.ts';
import { podRequests } from '../scheduler/framework/resources.ts';
import { findMatchingUntoleratedTaint } from '../scheduler/framework/taints.ts';
import { fitsRequest } from '../scheduler/plugins/node_resources_fit/node_resources_fit.ts';
import { ErrReason as NodePortsReason, fitsPorts } from '../scheduler/plugins/node_ports/node_ports.ts';

/** The verdict: admitted, or the reason and message the pod is rejected with. */
export type PredicateAdmitResult = { readonly admit: true } | { readonly admit: false; readonly reason: string; readonly message: string };

const NODE_AFFINITY_REASON = "node(s) didn't match Pod's node affinity/selector";
const TAINT_REASON = "node(s) had taints that the pod didn't tolerate";

/** Upstream's reason for an insufficient resource: OutOfcpu, OutOfmemory, OutOfpods, OutOf<name>. */
function outOf(resource: string): string {
  return `OutOf${resource}`;
}

/**
 * Admits `pod` on `node` next to `others` (the pods already admitted and not terminated); only the
 * first failure is reported, resources first, as upstream does.
 */
export function admitPredicates(pod: Pod, node: Node, others: readonly Pod[], isStatic: boolean): PredicateAdmitResult {
  const nodeInfo = new NodeInfo(...others.map((p) => new PodInfo(p)));
  nodeInfo.setNode(node);
  const insufficient = fitsRequest(podRequests(pod), nodeInfo);
  const first = insufficient[0];
  if (first !== undefined) {
    return {
      admit: false, reason: outOf(first.resourceName),
      message: `Node didn't have enough resource: ${first.resourceName}, requested: ${first.requested}, used: ${first.used}, capacity: ${first.capacity}`,
    };
  }
  if (!new RequiredNodeAffinity(pod).match(nodeInfo)) return predicateFailure('NodeAffinity', NODE_AFFINITY_REASON);
  if (!fitsPorts(new PodInfo(pod).hostPorts, nodeInfo)) return predicateFailure('NodePorts', NodePortsReason);
  // static pods are exempt from the taint check
  if (!isStatic && findMatchingUntoleratedTaint(node.spec?.taints ?? [], pod.spec?.tolerations, (t) => t.effect === 'NoExecute') !== undefined) {
    return predicateFailure('TaintToleration', TAINT_REASON);
  }
  return { admit: true };
}

function predicateFailure(name: string, desc: string): PredicateAdmitResult {
  return { admit: false, reason: name, message: `Predicate ${name} failed: ${desc}` };
}
