// Rollback requested through the deprecated rollback annotation (pkg/controller/deployment/
// rollback.go). `kubectl rollout undo` on apps/v1 patches the template instead, which the
// controller treats as any template change: the ReplicaSet with that template becomes new again.
import type { Deployment, ReplicaSet } from '../../api/types/apps_v1.ts';
import type { DeploymentController } from './deployment_controller.ts';
import {
  DefaultDeploymentUniqueLabelKey, DeprecatedRollbackTo, RollbackDone, RollbackRevisionNotFound, RollbackTemplateUnchanged,
  equalIgnoreHash, lastRevision, revisionOf, setDeploymentAnnotationsTo,
} from './deployment_util.ts';
import { getAllReplicaSetsAndSyncRevision, getRollbackTo } from './sync.ts';

export async function rollback(dc: DeploymentController, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(dc, d, rsList, true);
  const all = [...oldRSs, ...(newRS ? [newRS] : [])];
  let revision = getRollbackTo(d)!.revision;
  const name = d.metadata?.name ?? '';
  if (revision === 0) {
    revision = lastRevision(all);
    if (revision === 0) {
      dc.recorder.eventf(d, 'Warning', RollbackRevisionNotFound, 'Unable to find last revision.');
      await updateDeploymentAndClearRollbackTo(dc, d);
      return;
    }
  }
  for (const rs of all) {
    if (revisionOf(rs) !== revision) continue;
    if (!equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
      const template = structuredClone(rs.spec!.template!);
      if (template.metadata?.labels) delete template.metadata.labels[DefaultDeploymentUniqueLabelKey];
      d.spec!.template = template;
      setDeploymentAnnotationsTo(d, rs);
      dc.recorder.eventf(d, 'Normal', RollbackDone, 'Rolled back deployment %q to revision %d', name, revision);
    } else {
      dc.recorder.eventf(d, 'Warning', RollbackTemplateUnchanged, 'The rollback revision contains the same template as current deployment %q', name);
    }
    await updateDeploymentAndClearRollbackTo(dc, d);
    return;
  }
  dc.recorder.eventf(d, 'Warning', RollbackRevisionNotFound, 'Unable to find the revision to rollback to.');
  await updateDeploymentAndClearRollbackTo(dc, d);
}

async function updateDeploymentAndClearRollbackTo(dc: DeploymentController, d: Deployment): Promise<void> {
  if (d.metadata?.annotations) delete d.metadata.annotations[DeprecatedRollbackTo];
  await dc.client.updateDeployment(d);
}
