// The Recreate strategy (pkg/controller/deployment/recreate.go): scale every old ReplicaSet to
// zero, wait until no old pod runs, then create and scale up the new one.
import type { Deployment, ReplicaSet } from '../../api/types/apps_v1.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import type { DeploymentController } from './deployment_controller.ts';
import { deploymentComplete, filterActiveReplicaSets, replicasOf, sumStatus } from './deployment_util.ts';
import { syncRolloutStatus } from './progress.ts';
import { cleanupDeployment, getAllReplicaSetsAndSyncRevision, scaleReplicaSetAndRecordEvent } from './sync.ts';

export async function rolloutRecreate(dc: DeploymentController, d: Deployment, rsList: ReplicaSet[], podMap: Map<string, Pod[]>): Promise<void> {
  let { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(dc, d, rsList, false);
  let allRSs: (ReplicaSet | undefined)[] = [...oldRSs, newRS];
  let scaledDown = false;
  for (const rs of filterActiveReplicaSets(oldRSs)) {
    if ((await scaleReplicaSetAndRecordEvent(dc, rs, 0, d)).scaled) scaledDown = true;
  }
  if (scaledDown || oldPodsRunning(newRS, oldRSs, podMap)) {
    await syncRolloutStatus(dc, allRSs, newRS, d);
    return;
  }
  if (!newRS) {
    ({ newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(dc, d, rsList, true));
    allRSs = [...oldRSs, newRS];
  }
  await scaleReplicaSetAndRecordEvent(dc, newRS!, replicasOf(d), d);
  if (deploymentComplete(d, d.status)) await cleanupDeployment(dc, oldRSs, d);
  await syncRolloutStatus(dc, allRSs, newRS, d);
}

/** True while any old ReplicaSet reports replicas or owns a pod not yet finished. */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], podMap: Map<string, Pod[]>): boolean {
  if (sumStatus(oldRSs, 'replicas') > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata?.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
  }
  return false;
}
