// Tests of the change trackers: what counts as a change, how slices merge per service port, and the
// stale-UDP facts the conntrack cleanup is computed from.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointsChangeTracker, ServiceChangeTracker, applyEndpointsChanges, applyServiceChanges } from './change_tracker.ts';
import { servicePortsForService, sliceInfo } from './service_port.ts';
import { makeService, makeSlice } from './test_fixtures.ts';
import { servicePortKey, type EndpointsMap, type ServicePortMap } from './types.ts';

const LB = { serviceLoadBalancerAddresses: ['10.200.0.1', '127.0.0.1'] };

describe('ServiceChangeTracker', () => {
  test('an update that returns to the synced state leaves nothing pending', () => {
    const t = new ServiceChangeTracker(LB);
    const a = makeService({ name: 'web', clusterIP: '10.43.0.5' });
    const b = makeService({ name: 'web', clusterIP: '10.43.0.5', ports: [{ name: 'http', port: 81 }] });
    assert.equal(t.update(a, b), true);
    assert.equal(t.update(b, a), false);
    assert.equal(t.pending, 0);
  });

  test('metadata-only updates are no change', () => {
    const t = new ServiceChangeTracker(LB);
    const a = makeService({ name: 'web' });
    const b = { ...a, metadata: { ...a.metadata, resourceVersion: '2', labels: { x: 'y' } } };
    assert.equal(t.update(a, b), false);
  });

  test('applying adds, updates and deletes ports; removed UDP ports report their ClusterIP', () => {
    const t = new ServiceChangeTracker(LB);
    const map: ServicePortMap = new Map();
    const dns = makeService({ name: 'dns', clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'tcp', port: 53 }] });
    t.update(undefined, dns);
    let r = applyServiceChanges(map, t);
    assert.deepEqual([...r.updatedServices], ['default/dns']);
    assert.deepEqual([...map.keys()].sort(), ['default/dns:dns/UDP', 'default/dns:tcp/TCP']);
    const tcpOnly = makeService({ name: 'dns', clusterIP: '10.43.0.10', ports: [{ name: 'tcp', port: 53 }] });
    t.update(dns, tcpOnly);
    r = applyServiceChanges(map, t);
    assert.deepEqual([...r.deletedUDPClusterIPs], ['10.43.0.10']);
    assert.deepEqual([...map.keys()], ['default/dns:tcp/TCP']);
    t.update(tcpOnly, undefined);
    applyServiceChanges(map, t);
    assert.equal(map.size, 0);
  });

  test('headless and ExternalName Services have no ports; LoadBalancer gets node addresses and ingress IPs', () => {
    assert.equal(servicePortsForService(makeService({ name: 'h', clusterIP: 'None' }), LB).size, 0);
    assert.equal(servicePortsForService(makeService({ name: 'e', type: 'ExternalName', externalName: 'x.example' }), LB).size, 0);
    const lb = servicePortsForService(
      makeService({ name: 'lb', type: 'LoadBalancer', ports: [{ name: 'http', port: 80, nodePort: 30080 }], ingressIPs: ['10.200.0.1', '192.0.2.1'] }),
      LB,
    );
    const sp = lb.get(servicePortKey('default/lb', 'http', 'TCP'))!;
    assert.deepEqual(sp.loadBalancerVIPs, ['10.200.0.1', '192.0.2.1', '127.0.0.1']);
    assert.equal(sp.nodePort, 30080);
    const classy = servicePortsForService(makeService({ name: 'c', type: 'LoadBalancer', loadBalancerClass: 'x/y', ports: [{ name: 'http', port: 80, nodePort: 1 }] }), LB);
    assert.deepEqual(classy.get(servicePortKey('default/c', 'http', 'TCP'))!.loadBalancerVIPs, []);
    const affinity = servicePortsForService(makeService({ name: 'a', sessionAffinity: 'ClientIP' }), LB);
    assert.equal(affinity.get(servicePortKey('default/a', 'http', 'TCP'))!.stickyMaxAgeSeconds, 10800);
  });
});

describe('EndpointsChangeTracker', () => {
  test('identical slices are no change; removing an unknown slice is no change', () => {
    const t = new EndpointsChangeTracker('node-a');
    const s = makeSlice('web', [{ ip: '10.42.0.1' }]);
    assert.equal(t.endpointSliceUpdate(s, false), true);
    applyEndpointsChanges(new Map(), t);
    assert.equal(t.endpointSliceUpdate(structuredClone(s), false), false);
    assert.equal(t.endpointSliceUpdate(makeSlice('other', [], { name: 'other-x' }), true), false);
    assert.equal(t.endpointSliceUpdate({ ...s, metadata: { ...s.metadata, labels: {} } }, false), false);
  });

  test('slices of one Service merge per port, deduplicated and sorted, with local endpoints flagged', () => {
    const t = new EndpointsChangeTracker('node-a');
    const map: EndpointsMap = new Map();
    t.endpointSliceUpdate(makeSlice('web', [{ ip: '10.42.0.9' }, { ip: '10.42.0.1', node: 'node-a' }], { name: 'web-1' }), false);
    t.endpointSliceUpdate(makeSlice('web', [{ ip: '10.42.0.5' }, { ip: '10.42.0.9' }], { name: 'web-2' }), false);
    const r = applyEndpointsChanges(map, t);
    assert.deepEqual([...r.updatedServices], ['default/web']);
    const eps = map.get('default/web:http/TCP')!;
    assert.deepEqual(eps.map((e) => e.endpoint), ['10.42.0.1:8080', '10.42.0.5:8080', '10.42.0.9:8080']);
    assert.deepEqual(eps.map((e) => e.isLocal), [true, false, false]);
    t.endpointSliceUpdate(makeSlice('web', [], { name: 'web-1' }), true);
    t.endpointSliceUpdate(makeSlice('web', [], { name: 'web-2' }), true);
    applyEndpointsChanges(map, t);
    assert.equal(map.size, 0);
  });

  test('non-IPv4 slices and unset conditions', () => {
    const v6 = { ...makeSlice('web', [{ ip: 'fd00::1' }]), addressType: 'IPv6' };
    assert.deepEqual(sliceInfo(v6).endpoints, []);
    const bare = makeSlice('web', [{ ip: '10.42.0.1' }]);
    delete bare.endpoints[0]!.conditions;
    assert.deepEqual(sliceInfo(bare).endpoints[0], { address: '10.42.0.1', nodeName: 'node-b', ready: true, serving: true, terminating: false });
  });

  test('UDP: endpoints that stop serving are stale; a port gaining its first serving endpoint is newly active', () => {
    const t = new EndpointsChangeTracker('node-a');
    const map: EndpointsMap = new Map();
    const ports = [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'tcp', port: 53, protocol: 'TCP' }];
    t.endpointSliceUpdate(makeSlice('dns', [{ ip: '10.42.0.2' }, { ip: '10.42.0.3' }], { ports }), false);
    let r = applyEndpointsChanges(map, t);
    assert.deepEqual(r.newlyActiveUDPServices, ['default/dns:dns/UDP']);
    assert.deepEqual(r.deletedUDPEndpoints, []);
    t.endpointSliceUpdate(makeSlice('dns', [{ ip: '10.42.0.2', ready: false, serving: false }], { ports }), false);
    r = applyEndpointsChanges(map, t);
    assert.deepEqual(r.deletedUDPEndpoints.map((d) => [d.servicePortKey, d.endpoint.endpoint]).sort(), [
      ['default/dns:dns/UDP', '10.42.0.2:53'],
      ['default/dns:dns/UDP', '10.42.0.3:53'],
    ]);
    assert.deepEqual(r.newlyActiveUDPServices, []);
  });

  test('trigger times come from the annotation, or the receive time without one; deletions record none', () => {
    const t = new EndpointsChangeTracker('node-a', Date.parse('2026-01-01T00:00:00Z'));
    t.endpointSliceUpdate(makeSlice('a', [{ ip: '10.42.0.1' }], { triggerTime: '2026-01-01T00:00:05Z' }), false);
    t.endpointSliceUpdate(makeSlice('b', [{ ip: '10.42.0.2' }]), false, Date.parse('2026-01-01T00:00:07Z'));
    t.endpointSliceUpdate(makeSlice('c', [{ ip: '10.42.0.3' }]), false, 1);
    const r = applyEndpointsChanges(new Map(), t);
    assert.deepEqual(Object.fromEntries(r.lastChangeTriggerTimes), {
      'default/a': [Date.parse('2026-01-01T00:00:05Z')],
      'default/b': [Date.parse('2026-01-01T00:00:07Z')],
    });
    t.endpointSliceUpdate(makeSlice('a', [], {}), true);
    assert.equal(applyEndpointsChanges(new Map(), t).lastChangeTriggerTimes.size, 0);
  });
});
