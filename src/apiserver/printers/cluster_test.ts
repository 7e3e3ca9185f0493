// Checks of the cluster-level printers: namespaces, nodes, events (both APIs), leases, component
// statuses, priority and runtime classes, CSRs and API services.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiServicePrinter, certificateSigningRequestPrinter, componentStatusPrinter, eventPrinter, leasePrinter,
  namespacePrinter, nodePrinter, priorityClassPrinter, runtimeClassPrinter,
} from './cluster.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ctx = { now: NOW };
function ago(seconds: number): string {
  return new Date(NOW - seconds * 1000).toISOString();
}
function meta(name: string) {
  return { name, creationTimestamp: ago(2 * 24 * 3600 + 5 * 3600) };
}

describe('namespace printer', () => {
  test('prints the phase', () => {
    assert.deepEqual(namespacePrinter.row({ metadata: meta('default'), status: { phase: 'Active' } }, ctx).cells, ['default', 'Active', '2d5h']);
  });
});

describe('node printer', () => {
  const node = (spec: object, labels: Record<string, string>, conditions: object[]) => ({
    metadata: { ...meta('node-1'), labels },
    spec,
    status: {
      conditions,
      addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '192.168.1.10' }],
      nodeInfo: { kubeletVersion: 'v1.32.0+tkube', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-18-amd64', containerRuntimeVersion: 'containerd://1.6.20' },
    },
  });
  const ready = [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }];

  test('a ready control-plane node with its wide cells', () => {
    const n = node({}, { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': 'true' }, ready);
    assert.deepEqual(nodePrinter.row(n, ctx).cells, [
      'node-1', 'Ready', 'control-plane,master', '2d5h', 'v1.32.0+tkube',
      '192.168.1.10', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-18-amd64', 'containerd://1.6.20',
    ]);
  });

  test('a cordoned node reads Ready,SchedulingDisabled', () => {
    const n = node({ unschedulable: true }, { 'kubernetes.io/role': 'worker' }, ready);
    assert.deepEqual(nodePrinter.row(n, ctx).cells.slice(1, 3), ['Ready,SchedulingDisabled', 'worker']);
  });

  test('a node whose Ready condition is Unknown reads NotReady; none at all reads Unknown', () => {
    assert.equal(nodePrinter.row(node({}, {}, [{ type: 'Ready', status: 'Unknown' }]), ctx).cells[1], 'NotReady');
    assert.deepEqual(nodePrinter.row(node({}, {}, []), ctx).cells.slice(1, 3), ['Unknown', '<none>']);
  });

  test('a node without node info reads <unknown> in the wide cells', () => {
    const n = { metadata: meta('bare'), status: {} };
    assert.deepEqual(nodePrinter.row(n, ctx).cells.slice(4), ['', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });
});

describe('event printer', () => {
  test('a core event with a count: LAST SEEN TYPE REASON OBJECT MESSAGE, then the wide cells', () => {
    const e = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web.17c8', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{app}' },
      reason: 'BackOff',
      message: 'Back-off restarting failed container\n',
      type: 'Warning',
      count: 7,
      firstTimestamp: ago(600),
      lastTimestamp: ago(20),
      source: { component: 'kubelet', host: 'node-1' },
    };
    assert.deepEqual(eventPrinter.row(e, ctx).cells, [
      '20s', 'Warning', 'BackOff', 'pod/web', 'spec.containers{app}', 'kubelet, node-1', 'Back-off restarting failed container', '10m', 7, 'web.17c8',
    ]);
  });

  test('a new-style event falls back to eventTime, reporting controller and a count of 1', () => {
    const e = {
      metadata: { name: 'x.1' },
      involvedObject: { kind: 'Node', name: 'node-1' },
      reason: 'RegisteredNode',
      message: 'Node node-1 event: Registered Node node-1 in Controller',
      type: 'Normal',
      eventTime: '2024-05-01T11:59:10.123456Z',
      reportingController: 'node-controller',
    };
    assert.deepEqual(eventPrinter.row(e, ctx).cells, [
      '49s', 'Normal', 'RegisteredNode', 'node/node-1', '', 'node-controller', 'Node node-1 event: Registered Node node-1 in Controller', '49s', 1, 'x.1',
    ]);
  });

  test('a series sets LAST SEEN and COUNT', () => {
    const e = {
      metadata: { name: 's' },
      involvedObject: { kind: 'Pod' },
      eventTime: ago(3600),
      series: { count: 12, lastObservedTime: ago(5) },
      reportingController: 'kubelet',
      reportingInstance: 'node-2',
    };
    const cells = eventPrinter.row(e, ctx).cells;
    assert.deepEqual([cells[0], cells[3], cells[5], cells[7], cells[8]], ['5s', 'pod', 'kubelet, node-2', '60m', 12]);
  });

  test('an events.k8s.io/v1 event prints like the core one', () => {
    const e = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web.1' },
      regarding: { kind: 'Deployment', name: 'web' },
      note: 'Scaled up replica set web-5d9c to 3',
      reason: 'ScalingReplicaSet',
      type: 'Normal',
      eventTime: null,
      deprecatedFirstTimestamp: ago(90),
      deprecatedLastTimestamp: ago(90),
      deprecatedCount: 1,
      deprecatedSource: { component: 'deployment-controller' },
    };
    assert.deepEqual(eventPrinter.row(e, ctx).cells, [
      '90s', 'Normal', 'ScalingReplicaSet', 'deployment/web', '', 'deployment-controller', 'Scaled up replica set web-5d9c to 3', '90s', 1, 'web.1',
    ]);
  });

  test('an event without any time reads <unknown>', () => {
    const cells = eventPrinter.row({ metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p' } }, ctx).cells;
    assert.deepEqual([cells[0], cells[7]], ['<unknown>', '<unknown>']);
  });

  test('the columns: Name is a priority-1 column at the end', () => {
    assert.deepEqual(
      eventPrinter.columns.map((c) => `${c.name}:${c.priority}`),
      ['Last Seen:0', 'Type:0', 'Reason:0', 'Object:0', 'Subobject:1', 'Source:1', 'Message:0', 'First Seen:1', 'Count:1', 'Name:1'],
    );
  });
});

describe('lease, component status, priority class and runtime class printers', () => {
  test('a lease prints its holder', () => {
    assert.deepEqual(leasePrinter.row({ metadata: meta('node-1'), spec: { holderIdentity: 'node-1' } }, ctx).cells, ['node-1', 'node-1', '2d5h']);
    assert.equal(leasePrinter.row({ metadata: meta('free'), spec: {} }, ctx).cells[1], '');
  });

  test('a component status', () => {
    const cs = { metadata: { name: 'etcd-0' }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] };
    assert.deepEqual(componentStatusPrinter.row(cs, ctx).cells, ['etcd-0', 'Healthy', 'ok', '']);
    const bad = { metadata: { name: 'scheduler' }, conditions: [{ type: 'Healthy', status: 'False', error: 'connection refused' }] };
    assert.deepEqual(componentStatusPrinter.row(bad, ctx).cells, ['scheduler', 'Unhealthy', '', 'connection refused']);
  });

  test('a priority class', () => {
    const pc = { metadata: meta('system-node-critical'), value: 2000001000, preemptionPolicy: 'PreemptLowerPriority' };
    assert.deepEqual(priorityClassPrinter.row(pc, ctx).cells, ['system-node-critical', 2000001000, false, '2d5h', 'PreemptLowerPriority']);
  });

  test('a runtime class', () => {
    assert.deepEqual(runtimeClassPrinter.row({ metadata: meta('gvisor'), handler: 'runsc' }, ctx).cells, ['gvisor', 'runsc', '2d5h']);
  });
});

describe('certificate signing request printer', () => {
  const csr = (spec: object, status: object) => ({ metadata: meta('node-csr'), spec: { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', username: 'system:node:node-1', ...spec }, status });
  test('an approved and issued request with a requested duration', () => {
    const c = csr({ expirationSeconds: 86400 }, { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'LS0t' });
    assert.deepEqual(certificateSigningRequestPrinter.row(c, ctx).cells, [
      'node-csr', '2d5h', 'kubernetes.io/kube-apiserver-client-kubelet', 'system:node:node-1', '24h', 'Approved,Issued',
    ]);
  });
  test('pending, denied and failed requests', () => {
    assert.equal(certificateSigningRequestPrinter.row(csr({}, {}), ctx).cells[5], 'Pending');
    assert.equal(certificateSigningRequestPrinter.row(csr({}, {}), ctx).cells[4], '<none>');
    const denied = csr({}, { conditions: [{ type: 'Approved' }, { type: 'Denied' }, { type: 'Failed' }] });
    assert.equal(certificateSigningRequestPrinter.row(denied, ctx).cells[5], 'Denied,Failed');
  });
});

describe('API service printer', () => {
  test('a local API service that is available', () => {
    const a = { metadata: meta('v1.apps'), spec: { group: 'apps', version: 'v1' }, status: { conditions: [{ type: 'Available', status: 'True', reason: 'Local' }] } };
    assert.deepEqual(apiServicePrinter.row(a, ctx).cells, ['v1.apps', 'Local', 'True', '2d5h']);
  });
  test('an aggregated API service that is down shows its reason', () => {
    const a = {
      metadata: meta('v1beta1.metrics.k8s.io'),
      spec: { service: { namespace: 'kube-system', name: 'metrics-server' } },
      status: { conditions: [{ type: 'Available', status: 'False', reason: 'MissingEndpoints' }] },
    };
    assert.deepEqual(apiServicePrinter.row(a, ctx).cells, ['v1beta1.metrics.k8s.io', 'kube-system/metrics-server', 'False (MissingEndpoints)', '2d5h']);
    assert.equal(apiServicePrinter.row({ metadata: meta('x') }, ctx).cells[2], 'Unknown');
  });
});
