// Tests of endpoint categorization for Cluster and Local traffic policy, with the fallback to
// serving-terminating endpoints when nothing is ready.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { categorizeEndpoints } from './topology.ts';
import type { EndpointInfo, ServicePortInfo } from './types.ts';

function sp(over: Partial<ServicePortInfo> = {}): ServicePortInfo {
  return {
    serviceKey: 'ns/s',
    nameString: 'ns/s:p',
    portName: 'p',
    protocol: 'TCP',
    clusterIP: '10.43.0.1',
    port: 80,
    nodePort: 0,
    externalIPs: [],
    loadBalancerVIPs: [],
    loadBalancerSourceRanges: [],
    healthCheckNodePort: 0,
    sessionAffinityClientIP: false,
    stickyMaxAgeSeconds: 0,
    externalPolicyLocal: false,
    internalPolicyLocal: false,
    ...over,
  };
}

function ep(ip: string, over: Partial<EndpointInfo> = {}): EndpointInfo {
  return { ip, port: 80, endpoint: `${ip}:80`, nodeName: 'n', isLocal: false, ready: true, serving: true, terminating: false, ...over };
}

const names = (list: EndpointInfo[]): string[] => list.map((e) => e.ip);

test('Cluster policy uses ready endpoints, else serving-terminating ones', () => {
  const c = categorizeEndpoints([ep('1.0.0.1'), ep('1.0.0.2', { ready: false, terminating: true })], sp());
  assert.deepEqual(names(c.clusterEndpoints), ['1.0.0.1']);
  assert.equal(c.hasAnyEndpoints, true);
  const f = categorizeEndpoints([ep('1.0.0.1', { ready: false, terminating: true }), ep('1.0.0.2', { ready: false, serving: false, terminating: true })], sp());
  assert.deepEqual(names(f.clusterEndpoints), ['1.0.0.1']);
  const none = categorizeEndpoints([ep('1.0.0.1', { ready: false, serving: false })], sp());
  assert.equal(none.hasAnyEndpoints, false);
  assert.deepEqual(none.allReachable, []);
});

test('internal Local policy uses only local endpoints and reports remote ones as existing', () => {
  const c = categorizeEndpoints([ep('1.0.0.1'), ep('1.0.0.2', { isLocal: true })], sp({ internalPolicyLocal: true }));
  assert.deepEqual(names(c.localEndpoints), ['1.0.0.2']);
  assert.deepEqual(names(c.clusterEndpoints), []);
  assert.deepEqual(names(c.allReachable), ['1.0.0.2']);
  const remoteOnly = categorizeEndpoints([ep('1.0.0.1')], sp({ internalPolicyLocal: true }));
  assert.equal(remoteOnly.hasAnyEndpoints, true);
  assert.deepEqual(remoteOnly.localEndpoints, []);
});

test('external Local policy with a local terminating endpoint merges it into the reachable set', () => {
  const c = categorizeEndpoints(
    [ep('1.0.0.1'), ep('1.0.0.2', { isLocal: true, ready: false, terminating: true })],
    sp({ nodePort: 30000, externalPolicyLocal: true }),
  );
  assert.deepEqual(names(c.clusterEndpoints), ['1.0.0.1']);
  assert.deepEqual(names(c.localEndpoints), ['1.0.0.2']);
  assert.deepEqual(names(c.allReachable), ['1.0.0.1', '1.0.0.2']);
});
