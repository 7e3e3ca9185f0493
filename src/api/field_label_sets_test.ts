// Tests for the per-resource field selector support: accepted labels, upstream's error texts, and
// the field values computed from objects.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSelectorError, fieldSelectorString, matchesFields, parseFieldSelector } from './fields.ts';
import { convertFieldLabel, convertFieldSelector, fieldLabelSets, fieldsOf, supportedFieldLabels, unsupportedFieldLabelMessage } from './field_label_sets.ts';

describe('supported labels', () => {
  test('every resource accepts metadata.name', () => {
    for (const s of fieldLabelSets) assert.ok(Object.hasOwn(s.accepted, 'metadata.name') || s.resource === 'events', `${s.group}/${s.resource}`);
    assert.deepEqual(supportedFieldLabels('', 'configmaps'), ['metadata.name', 'metadata.namespace']);
    assert.deepEqual(supportedFieldLabels('apps', 'deployments'), ['metadata.name', 'metadata.namespace']);
  });
  test('pods accept the documented set and rename spec.host', () => {
    for (const l of [
      'metadata.name',
      'metadata.namespace',
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.podIPs',
      'status.nominatedNodeName',
    ]) {
      assert.deepEqual(convertFieldLabel('', 'pods', l, 'v'), [l, 'v']);
    }
    assert.deepEqual(convertFieldLabel('', 'pods', 'spec.host', 'n1'), ['spec.nodeName', 'n1']);
  });
  test('events.k8s.io maps regarding.* onto the involvedObject field set', () => {
    assert.deepEqual(convertFieldLabel('events.k8s.io', 'events', 'regarding.name', 'p'), ['involvedObject.name', 'p']);
    assert.deepEqual(convertFieldLabel('events.k8s.io', 'events', 'reportingController', 'c'), ['reportingComponent', 'c']);
    assert.throws(() => convertFieldLabel('events.k8s.io', 'events', 'involvedObject.name', 'p'), { message: 'field label not supported: involvedObject.name' });
  });
});

describe('unsupported label messages', () => {
  const cases: Array<[string, string, string, string]> = [
    ['', 'pods', 'spec.foo', 'field label not supported: spec.foo'],
    ['', 'nodes', 'metadata.namespace', 'field label not supported: metadata.namespace'],
    ['', 'namespaces', 'metadata.namespace', 'field label not supported: metadata.namespace'],
    ['', 'events', 'message', 'field label not supported: message'],
    ['', 'secrets', 'data', 'field label not supported: data'],
    ['', 'services', 'spec.ports', 'field label not supported: spec.ports'],
    ['batch', 'jobs', 'status.active', 'field label "status.active" not supported for "Job"'],
    ['batch', 'cronjobs', 'spec.suspend', 'field label "spec.suspend" not supported for "CronJob"'],
    ['certificates.k8s.io', 'certificatesigningrequests', 'spec.username', 'field label not supported: spec.username'],
    ['', 'configmaps', 'data.x', '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"'],
    ['apps', 'replicasets', 'status.replicas', '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'],
    ['apps', 'deployments', 'spec.replicas', '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'],
  ];
  for (const [g, r, label, msg] of cases) {
    test(`${g || 'core'}/${r} ${label}`, () => {
      assert.equal(unsupportedFieldLabelMessage(g, r, label), msg);
      assert.throws(() => convertFieldLabel(g, r, label, 'x'), (e: unknown) => e instanceof FieldSelectorError && e.message === msg);
    });
  }
  test('selector conversion fails on the first bad term in sorted order', () => {
    assert.throws(() => convertFieldSelector('', 'pods', parseFieldSelector('zzz=1,spec.nodeName=n,aaa=2')), { message: 'field label not supported: aaa' });
    assert.equal(fieldSelectorString(convertFieldSelector('', 'pods', parseFieldSelector('spec.host=n1,status.phase!=Failed'))), 'spec.nodeName=n1,status.phase!=Failed');
  });
});

describe('fieldsOf', () => {
  test('pods', () => {
    const pod = {
      metadata: { name: 'p', namespace: 'ns' },
      spec: { nodeName: 'n1', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default' },
      status: { phase: 'Running', podIP: '10.42.0.5', podIPs: [{ ip: '10.42.0.5' }, { ip: 'fd00::5' }] },
    };
    assert.deepEqual(fieldsOf('', 'pods', pod), {
      'metadata.name': 'p',
      'metadata.namespace': 'ns',
      'spec.nodeName': 'n1',
      'spec.restartPolicy': 'Always',
      'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': 'default',
      'spec.hostNetwork': 'false',
      'status.phase': 'Running',
      'status.podIP': '10.42.0.5',
      'status.nominatedNodeName': '',
    });
    assert.equal(fieldsOf('', 'pods', { metadata: {}, spec: { hostNetwork: true }, status: { podIPs: [{ ip: '1.2.3.4' }] } })['status.podIP'], '1.2.3.4');
    assert.equal(fieldsOf('', 'pods', { metadata: {}, spec: { hostNetwork: true } })['spec.hostNetwork'], 'true');
  });
  test('kubectl describe node: spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed', () => {
    const sel = convertFieldSelector('', 'pods', parseFieldSelector('spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed'));
    const running = fieldsOf('', 'pods', { metadata: { name: 'a' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } });
    const done = fieldsOf('', 'pods', { metadata: { name: 'b' }, spec: { nodeName: 'n1' }, status: { phase: 'Succeeded' } });
    const elsewhere = fieldsOf('', 'pods', { metadata: { name: 'c' }, spec: { nodeName: 'n2' }, status: { phase: 'Running' } });
    assert.deepEqual([running, done, elsewhere].map((f) => matchesFields(sel, f)), [true, false, false]);
  });
  test('core events, with source falling back to reportingComponent', () => {
    const ev = {
      metadata: { name: 'e', namespace: 'ns' },
      involvedObject: { kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u1', apiVersion: 'v1', resourceVersion: '7', fieldPath: 'spec.containers{c}' },
      reason: 'Started',
      reportingComponent: 'kubelet',
      type: 'Normal',
    };
    const f = fieldsOf('', 'events', ev);
    assert.equal(f['involvedObject.kind'], 'Pod');
    assert.equal(f['involvedObject.uid'], 'u1');
    assert.equal(f['involvedObject.fieldPath'], 'spec.containers{c}');
    assert.equal(f['source'], 'kubelet');
    assert.equal(f['reportingComponent'], 'kubelet');
    assert.equal(fieldsOf('', 'events', { ...ev, source: { component: 'scheduler' } })['source'], 'scheduler');
    // kubectl describe on a cluster-scoped object sends an empty involvedObject.namespace.
    const node = fieldsOf('', 'events', { metadata: { name: 'e2', namespace: 'default' }, involvedObject: { kind: 'Node', name: 'n1', uid: 'u2' } });
    const sel = convertFieldSelector('', 'events', parseFieldSelector('involvedObject.name=n1,involvedObject.namespace=,involvedObject.uid=u2,involvedObject.kind=Node'));
    assert.equal(matchesFields(sel, node), true);
  });
  test('events.k8s.io events read the v1 shape', () => {
    const f = fieldsOf('events.k8s.io', 'events', {
      metadata: { name: 'e', namespace: 'ns' },
      regarding: { kind: 'Pod', name: 'p' },
      reportingController: 'ctrl',
      reason: 'R',
      type: 'Warning',
    });
    assert.equal(f['involvedObject.kind'], 'Pod');
    assert.equal(f['reportingComponent'], 'ctrl');
    assert.equal(f['source'], 'ctrl');
    const sel = convertFieldSelector('events.k8s.io', 'events', parseFieldSelector('regarding.name=p,type=Warning'));
    assert.equal(matchesFields(sel, f), true);
  });
  test('other kinds', () => {
    assert.equal(fieldsOf('', 'nodes', { metadata: { name: 'n' }, spec: { unschedulable: true } }, { namespaced: false })['spec.unschedulable'], 'true');
    assert.equal(fieldsOf('', 'nodes', { metadata: { name: 'n' } }, { namespaced: false })['spec.unschedulable'], 'false');
    assert.equal(Object.hasOwn(fieldsOf('', 'nodes', { metadata: { name: 'n' } }, { namespaced: false }), 'metadata.namespace'), false);
    assert.equal(fieldsOf('', 'namespaces', { metadata: { name: 'ns' }, status: { phase: 'Terminating' } })['status.phase'], 'Terminating');
    assert.equal(fieldsOf('', 'secrets', { metadata: { name: 's' }, type: 'kubernetes.io/tls' })['type'], 'kubernetes.io/tls');
    assert.deepEqual(
      [fieldsOf('', 'services', { metadata: { name: 's' }, spec: { clusterIP: '10.43.0.1', type: 'ClusterIP' } })].map((f) => [f['spec.clusterIP'], f['spec.type']]),
      [['10.43.0.1', 'ClusterIP']],
    );
    assert.equal(fieldsOf('', 'replicationcontrollers', { metadata: { name: 'r' }, status: { replicas: 3 } })['status.replicas'], '3');
    assert.equal(fieldsOf('batch', 'jobs', { metadata: { name: 'j' }, status: { succeeded: 2 } })['status.successful'], '2');
    assert.equal(fieldsOf('batch', 'jobs', { metadata: { name: 'j' }, status: {} })['status.successful'], '0');
    assert.equal(fieldsOf('apps', 'replicasets', { metadata: { name: 'r' }, status: { replicas: 1 } })['status.replicas'], '1');
    assert.equal(fieldsOf('certificates.k8s.io', 'certificatesigningrequests', { metadata: { name: 'c' }, spec: { signerName: 'kubernetes.io/kubelet-serving' } })['spec.signerName'], 'kubernetes.io/kubelet-serving');
    assert.deepEqual(fieldsOf('', 'configmaps', { metadata: { name: 'c', namespace: 'd' } }), { 'metadata.name': 'c', 'metadata.namespace': 'd' });
  });
});
