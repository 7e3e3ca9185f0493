// The RollingUpdate strategy (pkg/controller/deployment/rolling.go): scale the new ReplicaSet up
// within maxSurge, then old ones down within maxUnavailable, unhealthy replicas first.
import type { Deployment, ReplicaSet } from '../../api/types/apps_v1.ts';
import type { DeploymentController } from './deployment_controller.ts';
import {
  byCreationTimestamp, deploymentComplete, filterActiveReplicaSets, maxUnavailable, newRSNewReplicas, replicasOf,
  sumReplicas, sumStatus,
} from './deployment_util.ts';
import { syncRolloutStatus } from './progress.ts';
import { cleanupDeployment, getAllReplicaSetsAndSyncRevision, scaleReplicaSetAndRecordEvent } from './sync.ts';

export async function rolloutRolling(dc: DeploymentController, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(dc, d, rsList, true);
  const rs = newRS!;
  const allRSs = [...oldRSs, rs];
  if (await reconcileNewReplicaSet(dc, allRSs, rs, d)) {
    await syncRolloutStatus(dc, allRSs, rs, d);
    return;
  }
  if (await reconcileOldReplicaSets(dc, allRSs, filterActiveReplicaSets(oldRSs), rs, d)) {
    await syncRolloutStatus(dc, allRSs, rs, d);
    return;
  }
  if (deploymentComplete(d, d.status)) await cleanupDeployment(dc, oldRSs, d);
  await syncRolloutStatus(dc, allRSs, rs, d);
}

async function reconcileNewReplicaSet(dc: DeploymentController, allRSs: ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<boolean> {
  if (replicasOf(newRS) === replicasOf(d)) return false;
  if (replicasOf(newRS) > replicasOf(d)) return (await scaleReplicaSetAndRecordEvent(dc, newRS, replicasOf(d), d)).scaled;
  const count = newRSNewReplicas(d, allRSs, newRS);
  return (await scaleReplicaSetAndRecordEvent(dc, newRS, count, d)).scaled;
}

async function reconcileOldReplicaSets(dc: DeploymentController, allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<boolean> {
  if (sumReplicas(oldRSs) === 0) return false;
  const allPods = sumReplicas(allRSs);
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newRSUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newRSUnavailable;
  if (maxScaledDown <= 0) return false;
  // Errors here only stop this round: upstream reports no scale-down and tries again later.
  let cleaned: { oldRSs: ReplicaSet[]; count: number };
  try {
    cleaned = await cleanupUnhealthyReplicas(dc, oldRSs, d, maxScaledDown);
  } catch {
    return false;
  }
  let scaledDown = 0;
  try {
    scaledDown = await scaleDownOldReplicaSetsForRollingUpdate(dc, [...cleaned.oldRSs, newRS], cleaned.oldRSs, d);
  } catch {
    return false;
  }
  return cleaned.count + scaledDown > 0;
}

/** Scales old ReplicaSets down by their unavailable replicas first (they cost no availability). */
async function cleanupUnhealthyReplicas(dc: DeploymentController, oldRSs: ReplicaSet[], d: Deployment, maxCleanup: number): Promise<{ oldRSs: ReplicaSet[]; count: number }> {
  const sorted = [...oldRSs].sort(byCreationTimestamp);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (total >= maxCleanup) break;
    const target = sorted[i]!;
    if (replicasOf(target) === 0) continue;
    const available = target.status?.availableReplicas ?? 0;
    if (replicasOf(target) === available) continue;
    const count = Math.min(maxCleanup - total, replicasOf(target) - available);
    const next = replicasOf(target) - count;
    if (next > replicasOf(target)) throw new Error(`when cleaning up unhealthy replicas, got invalid request to scale down ${target.metadata?.namespace}/${target.metadata?.name} ${replicasOf(target)} -> ${next}`);
    const { rs } = await scaleReplicaSetAndRecordEvent(dc, target, next, d);
    total += count;
    sorted[i] = rs;
  }
  return { oldRSs: sorted, count: total };
}

async function scaleDownOldReplicaSetsForRollingUpdate(dc: DeploymentController, allRSs: ReplicaSet[], oldRSs: ReplicaSet[], d: Deployment): Promise<number> {
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const available = sumStatus(allRSs, 'availableReplicas');
  if (available <= minAvailable) return 0;
  const sorted = [...oldRSs].sort(byCreationTimestamp);
  let total = 0;
  const toScaleDown = available - minAvailable;
  for (const target of sorted) {
    if (total >= toScaleDown) break;
    if (replicasOf(target) === 0) continue;
    const count = Math.min(replicasOf(target), toScaleDown - total);
    const next = replicasOf(target) - count;
    await scaleReplicaSetAndRecordEvent(dc, target, next, d);
    total += count;
  }
  return total;
}
