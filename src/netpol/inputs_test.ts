// Tests of the flattening of API objects: which pods policies can see, their IPv4 addresses and
// named ports, and namespace labels.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { namespaceInfoFromNamespace, podInfoFromPod } from './inputs.ts';
import { makePod } from './test_fixtures.ts';

test('a running pod becomes its namespace, labels, IPv4 addresses, node and named ports', () => {
  const pod = makePod({ name: 'web', ip: '10.42.0.5', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] });
  pod.status!.podIPs = [{ ip: '10.42.0.5' }, { ip: 'fd00::5' }];
  pod.spec!.containers.push({ name: 'unnamed', ports: [{ containerPort: 9000 }, { name: 'odd', containerPort: 1, protocol: 'ICMP' }] });
  assert.deepEqual(podInfoFromPod(pod), {
    namespace: 'default',
    name: 'web',
    labels: { app: 'web' },
    ips: ['10.42.0.5'],
    nodeName: 'node-a',
    namedPorts: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }],
  });
});

test('policies do not see host-network, finished, address-less or IPv6-only pods', () => {
  const base = makePod({ name: 'p', ip: '10.42.0.5' });
  assert.equal(podInfoFromPod({ ...base, spec: { ...base.spec!, hostNetwork: true } }), undefined);
  assert.equal(podInfoFromPod({ ...base, status: { ...base.status, phase: 'Failed' } }), undefined);
  assert.equal(podInfoFromPod({ ...base, status: { phase: 'Pending' } }), undefined);
  assert.equal(podInfoFromPod({ ...base, status: { phase: 'Running', podIP: 'fd00::1', podIPs: [{ ip: 'fd00::1' }] } }), undefined);
  // An old status with podIP but no podIPs still counts.
  assert.deepEqual(podInfoFromPod({ ...base, status: { phase: 'Running', podIP: '10.42.0.6' } })?.ips, ['10.42.0.6']);
});

test('a namespace always carries its name label', () => {
  assert.deepEqual(namespaceInfoFromNamespace({ metadata: { name: 'old', labels: { team: 'a' } } }), {
    name: 'old',
    labels: { team: 'a', 'kubernetes.io/metadata.name': 'old' },
  });
  assert.equal(namespaceInfoFromNamespace({ metadata: {} }), undefined);
});
