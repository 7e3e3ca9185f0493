// Rollout progress of a Deployment (pkg/controller/deployment/progress.go): the Progressing
// condition (progressing, complete, timed out), ReplicaFailure promotion, and requeueing a
// rollout that shows no progress in time for its deadline check.
import type { Deployment, DeploymentCondition, ReplicaSet } from '../../api/types/apps_v1.ts';
import { parseTime } from '../../client/clock.ts';
import type { DeploymentController } from './deployment_controller.ts';
import {
  Reason, deploymentComplete, deploymentProgressing, deploymentTimedOut, getDeploymentCondition, hasProgressDeadline,
  newDeploymentCondition, removeDeploymentCondition, replicaSetToDeploymentCondition, setDeploymentCondition,
} from './deployment_util.ts';
import { calculateStatus, sameStatus } from './sync.ts';
import type { DeploymentStatus } from '../../api/types/apps_v1.ts';

/** Computes status with the Progressing condition and writes it when it changed. */
export async function syncRolloutStatus(dc: DeploymentController, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
  const now = dc.clock.now();
  const status = calculateStatus(allRSs, newRS, d, now);
  if (!hasProgressDeadline(d)) removeDeploymentCondition(status, 'Progressing');
  const current = getDeploymentCondition(d.status, 'Progressing');
  const isComplete = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === Reason.NewRSAvailable;
  const name = d.metadata?.name ?? '';
  const rsName = newRS?.metadata?.name;
  if (hasProgressDeadline(d) && !isComplete) {
    if (deploymentComplete(d, status)) {
      const msg = rsName !== undefined ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${name}" has successfully progressed.`;
      setDeploymentCondition(status, newDeploymentCondition('Progressing', 'True', Reason.NewRSAvailable, msg, now));
    } else if (deploymentProgressing(d, status)) {
      const msg = rsName !== undefined ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${name}" is progressing.`;
      const cond = newDeploymentCondition('Progressing', 'True', Reason.ReplicaSetUpdated, msg, now);
      // Progress refreshes lastUpdateTime even with the same reason (unlike setDeploymentCondition).
      if (current) {
        if (current.status === 'True' && current.lastTransitionTime) cond.lastTransitionTime = current.lastTransitionTime;
        removeDeploymentCondition(status, 'Progressing');
      }
      setDeploymentCondition(status, cond);
    } else if (deploymentTimedOut(d, status, now)) {
      const msg = rsName !== undefined ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${name}" has timed out progressing.`;
      setDeploymentCondition(status, newDeploymentCondition('Progressing', 'False', Reason.TimedOut, msg, now));
    }
  }
  const failures = getReplicaFailures(allRSs, newRS);
  if (failures.length > 0) setDeploymentCondition(status, failures[0]!);
  else removeDeploymentCondition(status, 'ReplicaFailure');

  if (sameStatus(d.status, status)) {
    requeueStuckDeployment(dc, d, status);
    return;
  }
  d.status = status;
  await dc.client.updateDeploymentStatus(d);
}

function getReplicaFailures(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): DeploymentCondition[] {
  const fromRS = (rs: ReplicaSet | undefined): DeploymentCondition[] =>
    (rs?.status?.conditions ?? []).filter((c) => c.type === 'ReplicaFailure').map(replicaSetToDeploymentCondition);
  const own = fromRS(newRS);
  if (own.length > 0) return own;
  return allRSs.flatMap(fromRS);
}

/**
 * Requeues a Deployment whose rollout shows no progress for when its deadline passes; returns
 * the delay in ms (0: now, rate limited; -1: not needed).
 */
export function requeueStuckDeployment(dc: DeploymentController, d: Deployment, status: DeploymentStatus): number {
  const current = getDeploymentCondition(d.status, 'Progressing');
  if (!hasProgressDeadline(d) || !current) return -1;
  if (deploymentComplete(d, status) || current.reason === Reason.TimedOut) return -1;
  const last = parseTime(current.lastUpdateTime) ?? 0;
  const after = last + d.spec!.progressDeadlineSeconds! * 1000 - dc.clock.now();
  if (after < 1000) {
    dc.enqueueRateLimited(d);
    return 0;
  }
  // One extra second so the deadline has surely passed when we look again.
  dc.enqueueAfter(d, after + 1000);
  return after;
}
