// Tests of managedFields on writes and of server-side apply, following kubectl's flows: create,
// client-side apply, server-side apply with conflicts and force, pruning, status, upgrades.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { apply, defaultResetFields, fieldSetFromObject, updateManagedFields, type ApplyResult } from './field_manager.ts';
import { LAST_APPLIED_ANNOTATION } from './last_applied.ts';
import type { ManagedFieldsEntry } from './managed_fields.ts';

type Obj = Record<string, any>;
const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';
const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T10:01:00Z';
const T2 = '2024-05-01T10:02:00Z';

// A Deployment as the server stores it after defaulting.
function storedDeployment(overrides: { replicas?: number; image?: string; annotations?: Record<string, string> } = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'default', uid: 'uid-1', resourceVersion: '1', generation: 1, creationTimestamp: T0, ...(overrides.annotations ? { annotations: overrides.annotations } : {}) },
    spec: {
      progressDeadlineSeconds: 600,
      replicas: overrides.replicas ?? 2,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: 'nginx' } },
      strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [{ image: overrides.image ?? 'nginx:1.25', imagePullPolicy: 'IfNotPresent', name: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
          dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', schedulerName: 'default-scheduler', securityContext: {}, terminationGracePeriodSeconds: 30,
        },
      },
    },
    status: {},
  };
}

function config(spec: Obj, metadata: Obj = {}): Obj {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx', ...metadata }, spec };
}

const nginxTemplate = (image = 'nginx:1.25') => ({ metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image }] } });

function created(manager: string, obj: Obj = storedDeployment()): Obj {
  const managedFields = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live: undefined, next: obj, manager, time: T0 });
  return { ...obj, metadata: { ...obj['metadata'], managedFields } };
}

function ok(r: ApplyResult): { object: Obj; managedFields: ManagedFieldsEntry[]; changed: boolean } {
  if ('conflicts' in r) assert.fail(`unexpected conflicts: ${r.message}`);
  if ('error' in r) assert.fail(`unexpected error: ${r.error.message}`);
  return r as { object: Obj; managedFields: ManagedFieldsEntry[]; changed: boolean };
}

function applyAs(manager: string, live: Obj | undefined, applied: Obj, opts: { force?: boolean; time?: string; subresource?: string; resetFields?: readonly (readonly string[])[] } = {}): ApplyResult {
  return apply({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live, applied, manager, force: opts.force ?? false, time: opts.time ?? T1, subresource: opts.subresource, resetFields: opts.resetFields });
}

function entry(mf: ManagedFieldsEntry[], manager: string, operation = 'Apply'): ManagedFieldsEntry {
  const e = mf.find((m) => m.manager === manager && m.operation === operation);
  assert.ok(e, `entry for ${manager}/${operation} in ${JSON.stringify(mf.map((m) => [m.manager, m.operation]))}`);
  return e;
}

describe('managedFields on create and update', () => {
  test('create gives the creator every field it set, with upstream\'s "." entries', () => {
    const obj = storedDeployment({ annotations: { [LAST_APPLIED_ANNOTATION]: '{}\n' } });
    const mf = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live: undefined, next: obj, manager: 'kubectl-client-side-apply', time: T0 });
    assert.equal(mf.length, 1);
    assert.deepEqual(Object.keys(mf[0]!), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1']);
    assert.deepEqual(mf[0], {
      manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: T0, fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:annotations': { '.': {}, [`f:${LAST_APPLIED_ANNOTATION}`]: {} } },
        'f:spec': {
          'f:progressDeadlineSeconds': {}, 'f:replicas': {}, 'f:revisionHistoryLimit': {}, 'f:selector': {},
          'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
          'f:template': {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            'f:spec': {
              'f:containers': { 'k:{"name":"nginx"}': {
                '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {},
                'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
                'f:resources': {}, 'f:terminationMessagePath': {}, 'f:terminationMessagePolicy': {},
              } },
              'f:dnsPolicy': {}, 'f:restartPolicy': {}, 'f:schedulerName': {}, 'f:securityContext': {}, 'f:terminationGracePeriodSeconds': {},
            },
          },
        },
      },
    });
  });

  test('an update moves changed fields to the writer and leaves the rest', () => {
    const live = created('kubectl-create');
    const next = storedDeployment({ replicas: 5 });
    const mf = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live, next, manager: 'kubectl-scale', subresource: 'scale', time: T1 });
    assert.deepEqual(mf.map((e) => [e.manager, e.operation, e.subresource]), [['kubectl-create', 'Update', undefined], ['kubectl-scale', 'Update', 'scale']]);
    assert.deepEqual(entry(mf, 'kubectl-scale', 'Update').fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.ok(!('f:replicas' in (entry(mf, 'kubectl-create', 'Update').fieldsV1!['f:spec'] as object)));
  });

  test('an update that changes nothing adds no entry and keeps times', () => {
    const live = created('kubectl-create');
    const mf = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live, next: storedDeployment(), manager: 'kubectl-edit', time: T2 });
    assert.deepEqual(mf, live['metadata'].managedFields);
  });

  test('removing a field takes it from its owner; an owner left with nothing disappears', () => {
    const live = created('kubectl-create');
    const mf1 = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live, next: storedDeployment({ replicas: 7 }), manager: 'kubectl-scale', time: T1 });
    const live2 = { ...storedDeployment({ replicas: 7 }), metadata: { ...live['metadata'], managedFields: mf1 } };
    const next = storedDeployment();
    delete next['spec'].replicas;
    const mf2 = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live: live2, next, manager: 'kubectl-edit', time: T2 });
    assert.deepEqual(mf2.map((e) => e.manager), ['kubectl-create']);
  });

  test('status writes are recorded with their subresource and ignore the reset fields', () => {
    const live = created('kubectl-create');
    const next = { ...storedDeployment(), status: { replicas: 2, observedGeneration: 1 } };
    const mf = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live, next, manager: 'kube-controller-manager', subresource: 'status', time: T1, resetFields: defaultResetFields('status') });
    const e = entry(mf, 'kube-controller-manager', 'Update');
    assert.equal(e.subresource, 'status');
    assert.deepEqual(e.fieldsV1, { 'f:status': { 'f:observedGeneration': {}, 'f:replicas': {} } });
  });

  test('objects without managedFields stay without them; [{}] in a request resets them', () => {
    const live = storedDeployment();
    assert.deepEqual(updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live, next: storedDeployment({ replicas: 3 }), manager: 'm', time: T1 }), []);
    const tracked = created('kubectl-create');
    const next = { ...storedDeployment({ replicas: 3 }), metadata: { ...tracked['metadata'], managedFields: [{}] } };
    assert.deepEqual(updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live: tracked, next, manager: 'm', time: T1 }), []);
  });

  test('managedFields sent with an update replace the stored ones (kubectl\'s client-side apply upgrade)', () => {
    const live = created('kubectl-client-side-apply');
    const upgraded = live['metadata'].managedFields.map((e: ManagedFieldsEntry) => ({ ...e, manager: 'kubectl', operation: 'Apply' }));
    const next = { ...storedDeployment(), metadata: { ...live['metadata'], managedFields: upgraded } };
    const mf = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live, next, manager: 'kubectl', time: T1 });
    assert.deepEqual(mf.map((e) => [e.manager, e.operation]), [['kubectl', 'Apply']]);
  });

  test('an empty manager name is recorded as "unknown"', () => {
    const mf = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live: undefined, next: storedDeployment(), manager: '', time: T0 });
    assert.equal(mf[0]!.manager, 'unknown');
  });

  test('more than ten update managers fold the oldest into ancient-changes', () => {
    let live = created('creator');
    for (let i = 0; i < 11; i++) {
      const next = storedDeployment({ replicas: 10 + i });
      const mf = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live, next, manager: `m${String(i).padStart(2, '0')}`, time: `2024-05-01T11:${String(i).padStart(2, '0')}:00Z` });
      live = { ...next, metadata: { ...live['metadata'], managedFields: mf } };
    }
    const mf = live['metadata'].managedFields as ManagedFieldsEntry[];
    // creator keeps the rest of the spec; m00..m09 lost replicas to the next writer and vanished.
    assert.deepEqual(mf.map((e) => e.manager), ['creator', 'm10']);
    let many = created('creator');
    for (let i = 0; i < 11; i++) {
      const next = { ...storedDeployment(), metadata: { ...storedDeployment()['metadata'], labels: { ...(many['metadata'].labels ?? {}), [`l${i}`]: 'x' } } };
      const mf2 = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live: many, next, manager: `m${String(i).padStart(2, '0')}`, time: `2024-05-01T11:${String(i).padStart(2, '0')}:00Z` });
      many = { ...next, metadata: { ...next['metadata'], managedFields: mf2 } };
    }
    const names = (many['metadata'].managedFields as ManagedFieldsEntry[]).map((e) => e.manager);
    assert.equal(names.length, 10);
    assert.ok(names.includes('ancient-changes'));
    assert.ok(!names.includes('creator') && !names.includes('m00') && names.includes('m10'));
  });
});

describe('server-side apply', () => {
  test('apply creates an object owned by the applier, with list keys defaulted', () => {
    const r = ok(applyAs('kubectl', undefined, config({ replicas: 3, selector: { matchLabels: { app: 'nginx' } }, template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] } } }, { labels: { app: 'nginx' } })));
    assert.equal(r.changed, true);
    assert.equal(r.object['spec'].replicas, 3);
    assert.deepEqual(r.object['status'], {});
    assert.equal(r.object['metadata'].creationTimestamp, undefined, 'nulls of the empty object are dropped');
    assert.deepEqual(r.managedFields, [{
      manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:replicas': {}, 'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } },
          },
        },
      },
    }]);
  });

  test('two appliers disagreeing on replicas conflict; force moves ownership', () => {
    const first = ok(applyAs('manager-a', created('kubectl-create'), config({ replicas: 3 }), { force: true }));
    assert.ok(!JSON.stringify(entry(first.managedFields, 'kubectl-create', 'Update').fieldsV1).includes('f:replicas'));
    const live = first.object;
    const r = applyAs('manager-b', live, config({ replicas: 4 }), { time: T2 });
    assert.ok('conflicts' in r);
    assert.deepEqual(r.conflicts, [{ manager: 'manager-a', operation: 'Apply', apiVersion: 'apps/v1', field: '.spec.replicas' }]);
    assert.equal(r.message, 'Apply failed with 1 conflict: conflict with "manager-a": .spec.replicas');

    const forced = ok(applyAs('manager-b', live, config({ replicas: 4 }), { force: true, time: T2 }));
    assert.equal(forced.object['spec'].replicas, 4);
    assert.deepEqual(entry(forced.managedFields, 'manager-b').fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.ok(!forced.managedFields.some((e) => e.manager === 'manager-a'), 'manager-a owned only replicas');
  });

  test('appliers agreeing on a value share it without conflict', () => {
    const a = ok(applyAs('manager-a', created('kubectl-create'), config({ replicas: 3 }), { force: true }));
    const b = ok(applyAs('manager-b', a.object, config({ replicas: 3 }), { time: T2 }));
    assert.deepEqual(entry(b.managedFields, 'manager-a').fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.deepEqual(entry(b.managedFields, 'manager-b').fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  });

  test('a field an Update manager set conflicts, named with its API version', () => {
    const live = created('kubectl-create');
    const r = applyAs('kubectl', live, config({ template: nginxTemplate('nginx:1.26') }));
    assert.ok('conflicts' in r);
    assert.equal(r.message, 'Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1: .spec.template.spec.containers[name="nginx"].image');
  });

  test('several conflicts are grouped per manager', () => {
    const live = created('kubectl-create');
    const r = applyAs('kubectl', live, config({ replicas: 9, revisionHistoryLimit: 3 }));
    assert.ok('conflicts' in r);
    assert.equal(r.message, 'Apply failed with 2 conflicts: conflicts with "kubectl-create" using apps/v1:\n- .spec.replicas\n- .spec.revisionHistoryLimit');
  });

  test('an applier that stops applying a field removes it, unless another manager owns it', () => {
    const base = created('kubectl-create');
    const a1 = ok(applyAs('manager-a', base, config({ template: { metadata: { labels: { app: 'nginx', tier: 'web', team: 'x' } } } })));
    assert.deepEqual(a1.object['spec'].template.metadata.labels, { app: 'nginx', tier: 'web', team: 'x' });
    const b = ok(applyAs('manager-b', a1.object, config({ template: { metadata: { labels: { team: 'x' } } } }), { time: T2 }));
    const a2 = ok(applyAs('manager-a', b.object, config({ template: { metadata: { labels: { app: 'nginx' } } } }), { time: T2 }));
    assert.deepEqual(a2.object['spec'].template.metadata.labels, { app: 'nginx', team: 'x' });
    assert.deepEqual(entry(a2.managedFields, 'manager-a').fieldsV1, { 'f:spec': { 'f:template': { 'f:metadata': { 'f:labels': { 'f:app': {} } } } } });
  });

  test('a container no longer applied is removed from the list', () => {
    const two = { template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'sidecar', image: 'busybox' }] } } };
    const first = ok(applyAs('kubectl', undefined, config({ selector: { matchLabels: { app: 'nginx' } }, ...two })));
    const again = ok(applyAs('kubectl', first.object, config({ selector: { matchLabels: { app: 'nginx' } }, template: nginxTemplate() }), { time: T2 }));
    assert.deepEqual(again.object['spec'].template.spec.containers, [{ name: 'nginx', image: 'nginx:1.25' }]);
  });

  test('re-applying the same configuration changes nothing and keeps the time', () => {
    const cfg = config({ replicas: 3 });
    const first = ok(applyAs('kubectl', created('kubectl-create'), cfg, { force: true }));
    assert.equal(first.changed, true);
    const again = ok(applyAs('kubectl', first.object, cfg, { time: T2 }));
    assert.equal(again.changed, false);
    assert.equal(entry(again.managedFields, 'kubectl').time, T1);
  });

  test('an Update manager and an Apply manager on one object', () => {
    const applied = ok(applyAs('kubectl', undefined, config({ replicas: 1, selector: { matchLabels: { app: 'nginx' } }, template: nginxTemplate() })));
    const scaled: Obj = { ...applied.object, spec: { ...applied.object['spec'], replicas: 5 } };
    const mf = updateManagedFields({ definition: DEPLOYMENT, apiVersion: 'apps/v1', live: applied.object, next: scaled, manager: 'kubectl-scale', subresource: 'scale', time: T2 });
    assert.deepEqual(mf.map((e) => `${e.manager}/${e.operation}`), ['kubectl/Apply', 'kubectl-scale/Update']);
    assert.deepEqual(entry(mf, 'kubectl-scale', 'Update').fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.ok(!('f:replicas' in (entry(mf, 'kubectl').fieldsV1!['f:spec'] as object)));
    const r = applyAs('kubectl', { ...scaled, metadata: { ...scaled['metadata'], managedFields: mf } }, config({ replicas: 1, selector: { matchLabels: { app: 'nginx' } }, template: nginxTemplate() }), { time: T2 });
    assert.ok('conflicts' in r);
    assert.equal(r.message, 'Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource "scale" using apps/v1: .spec.replicas');
  });

  test('a first apply to an untracked object gives existing fields to before-first-apply', () => {
    const r = applyAs('kubectl', storedDeployment(), config({ replicas: 4 }));
    assert.ok('conflicts' in r);
    assert.equal(r.message, 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
    const same = ok(applyAs('kubectl', storedDeployment(), config({ replicas: 2 })));
    assert.deepEqual(same.managedFields.map((e) => `${e.manager}/${e.operation}`), ['kubectl/Apply', 'before-first-apply/Update']);
  });

  test('kubectl may take over fields its client-side apply set with the same values', () => {
    const lastApplied = JSON.stringify(config({ replicas: 2, selector: { matchLabels: { app: 'nginx' } }, template: nginxTemplate() }, { namespace: 'default' })) + '\n';
    const live = created('kubectl-client-side-apply', storedDeployment({ annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied } }));
    const cfg = config({ replicas: 2, selector: { matchLabels: { app: 'nginx' } }, template: nginxTemplate() });
    const r = ok(applyAs('kubectl', live, cfg));
    assert.ok(entry(r.managedFields, 'kubectl').fieldsV1!['f:spec']);
    // The annotation follows the applied configuration.
    assert.equal(r.object['metadata'].annotations[LAST_APPLIED_ANNOTATION], '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"nginx"}},"template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"containers":[{"image":"nginx:1.25","name":"nginx"}]}}}}\n');
    // Even a new value: the annotation vouches that the client-side applier set the live one.
    assert.equal(ok(applyAs('kubectl', live, config({ replicas: 3 }))).object['spec'].replicas, 3);
    // Not when the live value moved away from the annotation, nor for another manager name.
    const drifted = created('kubectl-client-side-apply', storedDeployment({ replicas: 5, annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied } }));
    const changed = applyAs('kubectl', drifted, config({ replicas: 3, revisionHistoryLimit: 10 }));
    assert.ok('conflicts' in changed);
    assert.deepEqual(changed.conflicts.map((c) => c.field), ['.spec.replicas']);
    assert.ok('conflicts' in applyAs('other', live, config({ replicas: 3 })));
  });

  test('applying status through the status subresource ignores spec, and the main resource ignores status', () => {
    const live = created('kubectl-create');
    const onStatus = ok(applyAs('status-writer', live, { ...config({ replicas: 9 }), status: { replicas: 2 } }, { subresource: 'status', resetFields: defaultResetFields('status') }));
    const e = entry(onStatus.managedFields, 'status-writer');
    assert.equal(e.subresource, 'status');
    assert.deepEqual(e.fieldsV1, { 'f:status': { 'f:replicas': {} } });
    const onMain = ok(applyAs('spec-writer', onStatus.object, { ...config({ paused: true }), status: { replicas: 5 } }, { resetFields: defaultResetFields(undefined) }));
    assert.deepEqual(entry(onMain.managedFields, 'spec-writer').fieldsV1, { 'f:spec': { 'f:paused': {} } });
  });

  test('bad applied configurations answer upstream\'s errors', () => {
    const live = created('kubectl-create');
    const wrongKind = applyAs('kubectl', live, { ...config({}), kind: 'StatefulSet' });
    assert.deepEqual('error' in wrongKind && wrongKind.error, { code: 400, reason: 'BadRequest', message: 'invalid object type: apps/v1, Kind=StatefulSet' });
    const noVersion = applyAs('kubectl', live, { kind: 'Deployment', metadata: { name: 'nginx' } });
    assert.deepEqual('error' in noVersion && noVersion.error.message, 'invalid object type: /, Kind=Deployment');
    const withMF = applyAs('kubectl', live, config({}, { managedFields: [] }));
    assert.deepEqual('error' in withMF && withMF.error, { code: 400, reason: 'BadRequest', message: 'metadata.managedFields must be nil' });
    const unknown = applyAs('kubectl', live, config({ foo: 1 }, { namespace: 'default' }));
    assert.deepEqual('error' in unknown && unknown.error, { code: 500, reason: '', message: 'failed to create typed patch object (default/nginx; apps/v1, Kind=Deployment): .spec.foo: field not declared in schema' });
  });

  test('fieldSetFromObject reads the kind\'s schema', () => {
    assert.equal(fieldSetFromObject(DEPLOYMENT, { spec: { replicas: 1, template: { spec: { containers: [{ name: 'a' }] } } } }).toString(),
      '.spec.replicas\n.spec.template.spec.containers[name="a"]\n.spec.template.spec.containers[name="a"].name');
  });
});

describe('server-side apply on other kinds', () => {
  const SERVICE = 'io.k8s.api.core.v1.Service';
  const CONFIGMAP = 'io.k8s.api.core.v1.ConfigMap';
  const applyKind = (definition: string, live: Obj | undefined, applied: Obj, manager = 'kubectl', time = T1) =>
    ok(apply({ definition, apiVersion: 'v1', live, applied, manager, force: false, time }));

  test('service ports merge by port and protocol, TCP when unset', () => {
    const svc = (ports: Obj[]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'a' }, ports } });
    const first = applyKind(SERVICE, undefined, svc([{ port: 80, targetPort: 8080 }]));
    assert.deepEqual(first.managedFields[0]!.fieldsV1, { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } }, 'f:selector': {} } });
    const other = applyKind(SERVICE, first.object, svc([{ port: 443, protocol: 'TCP' }]), 'other', T2);
    assert.deepEqual(other.object['spec'].ports, [{ port: 80, targetPort: 8080 }, { port: 443, protocol: 'TCP' }]);
    const again = applyKind(SERVICE, other.object, svc([{ port: 8080 }]), 'kubectl', T2);
    assert.deepEqual(again.object['spec'].ports, [{ port: 443, protocol: 'TCP' }, { port: 8080 }]);
  });

  test('configmap keys no longer applied are removed; others\' keys stay', () => {
    const cm = (data: Obj) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });
    const a = applyKind(CONFIGMAP, undefined, cm({ a: '1', b: '2' }));
    const b = applyKind(CONFIGMAP, a.object, cm({ c: '3' }), 'other', T2);
    const a2 = applyKind(CONFIGMAP, b.object, cm({ a: '1' }), 'kubectl', T2);
    assert.deepEqual(a2.object['data'], { a: '1', c: '3' });
    const gone = applyKind(CONFIGMAP, a2.object, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, 'kubectl', T2);
    assert.deepEqual(gone.object['data'], { c: '3' });
    assert.deepEqual(gone.managedFields.map((e) => e.manager), ['other']);
  });

  test('finalizers are a set owned item by item', () => {
    const cm = (finalizers: string[]) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', finalizers } });
    const a = applyKind(CONFIGMAP, undefined, cm(['x/a']));
    const b = applyKind(CONFIGMAP, a.object, cm(['x/b']), 'other', T2);
    assert.deepEqual(b.object['metadata'].finalizers, ['x/a', 'x/b']);
    assert.deepEqual(entry(b.managedFields, 'other').fieldsV1, { 'f:metadata': { 'f:finalizers': { 'v:"x/b"': {} } } });
  });

  test('an applied object is created with apiVersion and kind first and the kind\'s empty fields', () => {
    const pod = ok(apply({ definition: 'io.k8s.api.core.v1.Pod', apiVersion: 'v1', live: undefined, applied: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, manager: 'kubectl', force: false, time: T1 }));
    assert.deepEqual(Object.keys(pod.object), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    assert.deepEqual(pod.object['status'], {});
  });
});
