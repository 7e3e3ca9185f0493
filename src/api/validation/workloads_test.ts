// Tests for Deployment, ReplicaSet, DaemonSet, StatefulSet and ReplicationController validation
// on defaulted v1 JSON, with upstream's paths and messages (Go %#v values included).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../defaults/registry.ts';
import { errorString } from '../field_errors.ts';
import { validateObject, validateObjectUpdate } from './registry.ts';

type J = Record<string, unknown>;

function defaulted(group: string, kind: string, obj: J): J {
  const copy = structuredClone(obj);
  applyDefaults(group, 'v1', kind, copy);
  return copy;
}

function create(group: string, kind: string, obj: J): string[] {
  return validateObject(group, kind, defaulted(group, kind, obj)).map(errorString);
}

function update(group: string, kind: string, obj: J, old: J): string[] {
  return validateObjectUpdate(group, kind, defaulted(group, kind, obj), defaulted(group, kind, old)).map(errorString);
}

const template = (labels: J = { app: 'web' }, spec: J = {}): J => ({
  metadata: { labels },
  spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }], ...spec },
});

function workload(kind: string, spec: J): J {
  return { metadata: { name: 'web', namespace: 'default' }, kind, spec };
}

const deployment = (spec: J = {}): J => workload('Deployment', { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template(), ...spec });

describe('valid textbook workloads', () => {
  test('Deployment, ReplicaSet, DaemonSet, StatefulSet and ReplicationController', () => {
    assert.deepEqual(create('apps', 'Deployment', deployment()), []);
    assert.deepEqual(create('apps', 'ReplicaSet', workload('ReplicaSet', { replicas: 2, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, template: template() })), []);
    assert.deepEqual(create('apps', 'DaemonSet', workload('DaemonSet', { selector: { matchLabels: { app: 'web' } }, template: template() })), []);
    assert.deepEqual(create('apps', 'StatefulSet', workload('StatefulSet', {
      serviceName: 'web', replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template(),
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    })), []);
    assert.deepEqual(create('', 'ReplicationController', workload('ReplicationController', { replicas: 1, template: template() })), []);
  });

  test('a StatefulSet template is not pod-validated in v1.32 (only labels, restart policy, deadline)', () => {
    assert.deepEqual(create('apps', 'StatefulSet', workload('StatefulSet', { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } })), []);
  });
});

describe('Deployment', () => {
  const cases: Array<[string, J, string[]]> = [
    ['a selector that does not match the template', deployment({ selector: { matchLabels: { app: 'x' } } }),
      ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`']],
    ['a missing selector', deployment({ selector: undefined }), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]],
    ['an empty selector', deployment({ selector: {} }),
      ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment']],
    ['negative replicas', deployment({ replicas: -1 }), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    ['a selector operator that does not exist', deployment({ selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Is' }] } }), [
      'spec.selector.matchExpressions[0].operator: Invalid value: "Is": not a valid selector operator',
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"tier", Operator:"Is", Values:[]string(nil)}}}: invalid label selector',
    ]],
    ['restartPolicy Never', deployment({ template: template({ app: 'web' }, { restartPolicy: 'Never' }) }),
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']],
    ['a template container without image', deployment({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web' }] } } }),
      ['spec.template.spec.containers[0].image: Required value']],
    ['a bad template label (reported under template.labels)', deployment({ selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web', 'bad key': 'x' }) }),
      ["spec.template.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]],
    ['maxUnavailable over 100%', deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '120%' } } }),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"120%"}: must not be greater than 100%']],
    ['maxUnavailable and maxSurge both 0', deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0']],
    ['a rollingUpdate block with Recreate', deployment({ strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }),
      ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]],
    ['an unknown strategy', deployment({ strategy: { type: 'BlueGreen' } }),
      ['spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"']],
    ['progressDeadlineSeconds not above minReadySeconds', deployment({ minReadySeconds: 10, progressDeadlineSeconds: 10 }),
      ['spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds']],
  ];
  for (const [name, obj, want] of cases) test(`rejects ${name}`, () => assert.deepEqual(create('apps', 'Deployment', obj), want));

  test('the selector is immutable on update', () => {
    const next = deployment({ selector: { matchLabels: { app: 'web', tier: 'front' } }, template: template({ app: 'web', tier: 'front' }) });
    assert.deepEqual(update('apps', 'Deployment', next, deployment()), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"front"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });

  test('scaling and a new image are fine on update', () => {
    assert.deepEqual(update('apps', 'Deployment', deployment({ replicas: 5, template: template({ app: 'web' }, { containers: [{ name: 'web', image: 'nginx:1.28' }] }) }), deployment()), []);
  });
});

describe('ReplicaSet and ReplicationController', () => {
  test('a ReplicaSet with a mismatched selector', () => {
    assert.deepEqual(create('apps', 'ReplicaSet', workload('ReplicaSet', { selector: { matchLabels: { app: 'other' } }, template: template() })),
      ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`']);
  });

  test('a ReplicationController with activeDeadlineSeconds', () => {
    assert.deepEqual(create('', 'ReplicationController', workload('ReplicationController', { template: template({ app: 'web' }, { activeDeadlineSeconds: 10 }) })),
      ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported']);
  });
});

describe('DaemonSet', () => {
  const ds = (spec: J = {}): J => workload('DaemonSet', { selector: { matchLabels: { app: 'web' } }, template: template(), ...spec });
  const cases: Array<[string, J, string[]]> = [
    ['a missing selector (only the template mismatch, as upstream)', ds({ selector: undefined }),
      ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`']],
    ['restartPolicy OnFailure', ds({ template: template({ app: 'web' }, { restartPolicy: 'OnFailure' }) }),
      ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"']],
    ['both maxSurge and maxUnavailable', ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } }),
      ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: may not be set when maxUnavailable is non-zero']],
    ['an unknown update strategy', ds({ updateStrategy: { type: 'Surge' } }),
      ['spec.updateStrategy: Unsupported value: apps.DaemonSetUpdateStrategy{Type:"Surge", RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: supported values: "RollingUpdate", "OnDelete"']],
  ];
  for (const [name, obj, want] of cases) test(`rejects ${name}`, () => assert.deepEqual(create('apps', 'DaemonSet', obj), want));
});

describe('StatefulSet', () => {
  const sts = (spec: J = {}): J => workload('StatefulSet', { serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template: template(), ...spec });
  const cases: Array<[string, J, string[]]> = [
    ['a missing selector', sts({ selector: undefined }), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]],
    ['an unknown pod management policy', sts({ podManagementPolicy: 'Random' }),
      ["spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"]],
    ['restartPolicy Never', sts({ template: template({ app: 'web' }, { restartPolicy: 'Never' }) }),
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']],
    ['a negative partition', sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }),
      ['spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0']],
  ];
  for (const [name, obj, want] of cases) test(`rejects ${name}`, () => assert.deepEqual(create('apps', 'StatefulSet', obj), want));

  test('only some spec fields may change on update', () => {
    assert.deepEqual(update('apps', 'StatefulSet', sts({ replicas: 4, template: template({ app: 'web' }, { containers: [{ name: 'web', image: 'nginx:1.28' }] }) }), sts()), []);
    assert.deepEqual(update('apps', 'StatefulSet', sts({ serviceName: 'other' }), sts()), [
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });
});
