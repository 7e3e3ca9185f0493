// Tests of the built-in load balancer's status computation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../api/types/core_v1.ts';
import { loadBalancerStatusEqual, serviceLBStatus } from './service_lb.ts';
import { makeService } from './test_fixtures.ts';

function node(name: string, addrs: [string, string][], ready = true, unschedulable = false): Node {
  return {
    metadata: { name },
    spec: unschedulable ? { unschedulable } : {},
    status: { addresses: addrs.map(([type, address]) => ({ type, address })), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

const lb = makeService({ name: 'lb', type: 'LoadBalancer', ports: [{ name: 'http', port: 80, nodePort: 30080 }] });

test('ingress lists the InternalIPs of ready, schedulable nodes', () => {
  const nodes = [
    node('b', [['InternalIP', '10.200.0.2'], ['Hostname', 'b']]),
    node('a', [['InternalIP', '10.200.0.1']]),
    node('down', [['InternalIP', '10.200.0.3']], false),
    node('cordoned', [['InternalIP', '10.200.0.4']], true, true),
  ];
  assert.deepEqual(serviceLBStatus(lb, nodes), { ingress: [{ ip: '10.200.0.1', ipMode: 'VIP' }, { ip: '10.200.0.2', ipMode: 'VIP' }] });
});

test('ExternalIPs win when any node has one; no usable node gives an empty status', () => {
  const nodes = [node('a', [['InternalIP', '10.200.0.1'], ['ExternalIP', '192.0.2.10']]), node('b', [['InternalIP', '10.200.0.2']])];
  assert.deepEqual(serviceLBStatus(lb, nodes), { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] });
  assert.deepEqual(serviceLBStatus(lb, []), {});
});

test('other Service types and load balancer classes are not ours', () => {
  assert.equal(serviceLBStatus(makeService({ name: 'c' }), [node('a', [['InternalIP', '10.200.0.1']])]), null);
  const classy = makeService({ name: 'x', type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' });
  assert.equal(serviceLBStatus(classy, [node('a', [['InternalIP', '10.200.0.1']])]), null);
});

test('status equality ignores order', () => {
  assert.equal(loadBalancerStatusEqual({ ingress: [{ ip: '1.1.1.1' }, { ip: '2.2.2.2' }] }, { ingress: [{ ip: '2.2.2.2' }, { ip: '1.1.1.1' }] }), true);
  assert.equal(loadBalancerStatusEqual({ ingress: [{ ip: '1.1.1.1' }] }, {}), false);
  assert.equal(loadBalancerStatusEqual(undefined, {}), true);
});
