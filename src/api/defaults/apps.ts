// Defaulters of the apps/v1 kinds (upstream pkg/apis/apps/v1 defaults, feature gates at v1.32
// defaults: StatefulSetAutoDeletePVC on), each also defaulting its pod template.

import { chain, child, eachIn, ensurePath, fieldDefaults, isNil, type Defaulter, type JsonObject } from './json.ts';
import { podTemplateAt } from './pod_spec.ts';
import { defaultPersistentVolumeClaim } from './volumes.ts';

const podTemplateAtSpec = podTemplateAt('spec.template');

function defaultDeploymentStrategy(obj: JsonObject): void {
  const strategy = ensurePath(obj, 'spec.strategy');
  if (strategy === undefined) return;
  fieldDefaults([{ path: 'type', value: 'RollingUpdate', when: 'zero' }])(strategy);
  if (strategy['type'] === 'RollingUpdate') {
    fieldDefaults([
      { path: 'rollingUpdate.maxUnavailable', value: '25%' },
      { path: 'rollingUpdate.maxSurge', value: '25%' },
    ])(strategy);
  }
}

function defaultDaemonSetStrategy(obj: JsonObject): void {
  const strategy = ensurePath(obj, 'spec.updateStrategy');
  if (strategy === undefined) return;
  fieldDefaults([{ path: 'type', value: 'RollingUpdate', when: 'zero' }])(strategy);
  if (strategy['type'] === 'RollingUpdate') {
    fieldDefaults([
      { path: 'rollingUpdate.maxUnavailable', value: 1 },
      { path: 'rollingUpdate.maxSurge', value: 0 },
    ])(strategy);
  }
}

// Only a defaulted type brings a rollingUpdate block; an explicit RollingUpdate without one stays so.
function defaultStatefulSetStrategy(obj: JsonObject): void {
  const strategy = ensurePath(obj, 'spec.updateStrategy');
  if (strategy === undefined) return;
  if (strategy['type'] === undefined || strategy['type'] === null || strategy['type'] === '') {
    strategy['type'] = 'RollingUpdate';
    if (isNil(strategy['rollingUpdate'])) strategy['rollingUpdate'] = {};
  }
  const rollingUpdate = child(strategy, 'rollingUpdate');
  if (strategy['type'] === 'RollingUpdate' && rollingUpdate && isNil(rollingUpdate['partition'])) {
    rollingUpdate['partition'] = 0;
  }
}

// Claim templates are whole PersistentVolumeClaims (status.phase Pending included), and the v1
// conversion stamps apiVersion/kind on them.
function defaultVolumeClaimTemplates(obj: JsonObject): void {
  eachIn(child(obj, 'spec'), 'volumeClaimTemplates', (pvc) => {
    pvc['apiVersion'] = 'v1';
    pvc['kind'] = 'PersistentVolumeClaim';
    defaultPersistentVolumeClaim(pvc);
  });
}

/** apps/v1 kinds with defaults. */
export const appsV1Defaulters: Readonly<Record<string, Defaulter>> = {
  Deployment: chain(
    fieldDefaults([{ path: 'spec.replicas', value: 1 }]),
    defaultDeploymentStrategy,
    fieldDefaults([
      { path: 'spec.revisionHistoryLimit', value: 10 },
      { path: 'spec.progressDeadlineSeconds', value: 600 },
    ]),
    podTemplateAtSpec,
  ),
  ReplicaSet: chain(fieldDefaults([{ path: 'spec.replicas', value: 1 }]), podTemplateAtSpec),
  DaemonSet: chain(
    defaultDaemonSetStrategy,
    fieldDefaults([{ path: 'spec.revisionHistoryLimit', value: 10 }]),
    podTemplateAtSpec,
  ),
  StatefulSet: chain(
    fieldDefaults([{ path: 'spec.podManagementPolicy', value: 'OrderedReady', when: 'empty' }]),
    defaultStatefulSetStrategy,
    fieldDefaults([
      { path: 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted', value: 'Retain', when: 'empty' },
      { path: 'spec.persistentVolumeClaimRetentionPolicy.whenScaled', value: 'Retain', when: 'empty' },
      { path: 'spec.replicas', value: 1 },
      { path: 'spec.revisionHistoryLimit', value: 10 },
    ]),
    podTemplateAtSpec,
    defaultVolumeClaimTemplates,
  ),
};
