// Golden-file tests of the pure renderer: Services and EndpointSlices go through the change trackers
// into renderRules, and the iptables-restore input must equal testdata/<case>.golden.
// Regenerate with TKUBE_UPDATE_GOLDEN=1 after an intended change, and review the diff.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { EndpointsChangeTracker, ServiceChangeTracker, applyEndpointsChanges, applyServiceChanges } from './change_tracker.ts';
import {
  LARGE_CLUSTER_ENDPOINTS_THRESHOLD,
  chainHash,
  cidrContains,
  defaultRulesConfig,
  probability,
  renderRules,
  restoreInput,
  type RenderedRules,
} from './rules.ts';
import { makeService, makeSlice, type ServiceSpecInput } from './test_fixtures.ts';
import type { EndpointSlice, EndpointsMap, RulesConfig, Service, ServicePortMap } from './types.ts';

const NODE = { name: 'node-a', ips: ['10.200.0.1'], clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16' };

function config(over: Partial<RulesConfig> = {}): RulesConfig {
  return { ...defaultRulesConfig(NODE), ...over };
}

function state(services: Service[], slices: EndpointSlice[], cfg: RulesConfig): { sp: ServicePortMap; eps: EndpointsMap } {
  const lb = cfg.nodePortAddresses === 'all' ? cfg.nodeIPs : cfg.nodePortAddresses;
  const st = new ServiceChangeTracker({ serviceLoadBalancerAddresses: cfg.serviceLoadBalancer ? lb : [] });
  const et = new EndpointsChangeTracker(cfg.nodeName);
  for (const s of services) st.update(undefined, s);
  for (const s of slices) et.endpointSliceUpdate(s, false);
  const sp: ServicePortMap = new Map();
  const eps: EndpointsMap = new Map();
  applyServiceChanges(sp, st);
  applyEndpointsChanges(eps, et);
  return { sp, eps };
}

function render(services: Service[], slices: EndpointSlice[], cfg = config()): RenderedRules {
  const { sp, eps } = state(services, slices, cfg);
  return renderRules({ config: cfg, servicePorts: sp, endpoints: eps, changedServices: null, existingNatChains: [] });
}

function golden(name: string, actual: string): void {
  const path = new URL(`./testdata/${name}.golden`, import.meta.url);
  if (process.env['TKUBE_UPDATE_GOLDEN']) writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `testdata/${name}.golden differs (TKUBE_UPDATE_GOLDEN=1 regenerates)`);
}

const web = (over: Partial<ServiceSpecInput> = {}): Service =>
  makeService({ name: 'web', clusterIP: '10.43.77.10', ports: [{ name: 'http', port: 80 }], ...over });
const three = [{ ip: '10.42.1.11' }, { ip: '10.42.1.12' }, { ip: '10.42.2.13' }];

describe('golden rules', () => {
  test('one ClusterIP Service with 3 endpoints balances 1/3, 1/2, 1', () => {
    golden('clusterip_3_endpoints', restoreInput(render([web()], [makeSlice('web', three)])));
  });

  test('a Service without endpoints is rejected in the filter table', () => {
    golden('no_endpoints', restoreInput(render([web()], [])));
  });

  test('NodePort captures the node port through KUBE-NODEPORTS on node addresses and 127.0.0.1', () => {
    const svc = web({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
    golden('nodeport', restoreInput(render([svc], [makeSlice('web', three)])));
  });

  test('LoadBalancer opens its port on the node addresses and on status ingress IPs', () => {
    const svc = web({ type: 'LoadBalancer', ports: [{ name: 'http', port: 80, nodePort: 30080 }], ingressIPs: ['10.200.0.1', '192.0.2.7'] });
    const other = makeService({ name: 'classy', clusterIP: '10.43.77.11', type: 'LoadBalancer', loadBalancerClass: 'example.com/lb', ports: [{ name: 'http', port: 81, nodePort: 30081 }] });
    golden('loadbalancer', restoreInput(render([svc, other], [makeSlice('web', three), makeSlice('classy', [{ ip: '10.42.1.21' }])])));
  });

  test('loadBalancerSourceRanges route LB traffic through a KUBE-FW chain', () => {
    const svc = web({ type: 'LoadBalancer', ports: [{ name: 'http', port: 80, nodePort: 30080 }], loadBalancerSourceRanges: ['10.200.0.0/24', '192.0.2.0/24'] });
    golden('loadbalancer_source_ranges', restoreInput(render([svc], [makeSlice('web', three)])));
  });

  test('sessionAffinity ClientIP adds recent-match rules with the timeout', () => {
    const svc = web({ sessionAffinity: 'ClientIP', timeoutSeconds: 600 });
    golden('session_affinity', restoreInput(render([svc], [makeSlice('web', three)])));
  });

  test('externalTrafficPolicy Local sends external traffic to local endpoints only', () => {
    const svc = web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30080 }], healthCheckNodePort: 32000 });
    const slice = makeSlice('web', [{ ip: '10.42.0.5', node: 'node-a' }, { ip: '10.42.1.11' }, { ip: '10.42.2.13' }]);
    golden('external_traffic_policy_local', restoreInput(render([svc], [slice])));
  });

  test('externalTrafficPolicy Local without local endpoints drops external traffic but keeps the short-circuit', () => {
    const svc = web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
    golden('external_traffic_policy_local_none_here', restoreInput(render([svc], [makeSlice('web', three)])));
  });

  test('internalTrafficPolicy Local uses only local endpoints for the ClusterIP', () => {
    const svc = web({ internalTrafficPolicy: 'Local' });
    const slice = makeSlice('web', [{ ip: '10.42.0.5', node: 'node-a' }, { ip: '10.42.1.11' }]);
    golden('internal_traffic_policy_local', restoreInput(render([svc], [slice])));
  });

  test('headless Services get no rules', () => {
    const svc = web({ clusterIP: 'None' });
    const empty = restoreInput(render([], []));
    const actual = restoreInput(render([svc], [makeSlice('web', three)]));
    assert.equal(actual, empty);
    golden('headless', actual);
  });

  test('ExternalName Services get no rules', () => {
    const svc = makeService({ name: 'ext', type: 'ExternalName', externalName: 'example.com', ports: [{ name: 'http', port: 80 }] });
    const actual = restoreInput(render([svc], []));
    assert.equal(actual, restoreInput(render([], [])));
    golden('externalname', actual);
  });

  test('terminating endpoints are used only when no endpoint is ready', () => {
    const svc = web();
    const slice = makeSlice('web', [
      { ip: '10.42.1.11', ready: false, serving: true, terminating: true },
      { ip: '10.42.1.12', ready: false, serving: false, terminating: true },
      { ip: '10.42.2.13', ready: false, serving: true, terminating: true },
    ]);
    golden('terminating_fallback', restoreInput(render([svc], [slice])));
    // One ready endpoint: the terminating ones drop out.
    const mixed = makeSlice('web', [{ ip: '10.42.1.11', ready: false, serving: true, terminating: true }, { ip: '10.42.1.12' }]);
    const text = restoreInput(render([svc], [mixed]));
    assert.match(text, /--to-destination 10\.42\.1\.12:8080/);
    assert.doesNotMatch(text, /10\.42\.1\.11/);
  });

  test('UDP, unnamed ports and external IPs', () => {
    const dns = makeService({
      ns: 'kube-system',
      name: 'kube-dns',
      clusterIP: '10.43.0.10',
      externalIPs: ['10.200.0.53'],
      ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }],
    });
    const plain = makeService({ name: 'plain', clusterIP: '10.43.5.5', ports: [{ port: 8080 }] });
    const slices = [
      makeSlice('kube-dns', [{ ip: '10.42.0.2', node: 'node-a' }], { ns: 'kube-system', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
      makeSlice('plain', [{ ip: '10.42.0.3' }], { ports: [{ port: 8080 }] }),
    ];
    golden('udp_unnamed_external_ip', restoreInput(render([dns, plain], slices)));
  });

  test("'all' node port addresses use addrtype LOCAL, excluding 127/8 when localhost NodePorts are off", () => {
    const svc = web({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
    const on = restoreInput(render([svc], [makeSlice('web', three)], config({ nodePortAddresses: 'all' })));
    assert.match(on, /^-A KUBE-SERVICES .* -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS$/m);
    const off = restoreInput(render([svc], [makeSlice('web', three)], config({ nodePortAddresses: 'all', localhostNodePorts: false })));
    assert.match(off, /--dst-type LOCAL ! -d 127\.0\.0\.0\/8 -j KUBE-NODEPORTS$/m);
    assert.doesNotMatch(off, /KUBE-FIREWALL/);
  });
});

describe('renderRules', () => {
  test('chain names hash "servicePortName + protocol" as upstream (known upstream values)', () => {
    assert.equal(chainHash('ns1/svc1:p80tcp'), 'XPGD46QRK7WJZT7O');
    assert.equal(chainHash('ns1/svc1:p80tcp10.180.0.1:80'), 'SXIVWICOYRO3J4NJ');
  });

  test('probabilities are printed with 10 decimals', () => {
    assert.equal(probability(3), '0.3333333333');
    assert.equal(probability(2), '0.5000000000');
    assert.equal(probability(7), '0.1428571429');
  });

  test('cidrContains', () => {
    assert.equal(cidrContains('10.42.0.0/16', '10.42.255.1'), true);
    assert.equal(cidrContains('10.42.0.0/16', '10.43.0.1'), false);
    assert.equal(cidrContains('0.0.0.0/0', '1.2.3.4'), true);
    assert.equal(cidrContains('10.200.0.1/32', '10.200.0.1'), true);
  });

  test('a partial sync rewrites only the changed Services chains but keeps all others active', () => {
    const cfg = config();
    const a = web();
    const b = makeService({ name: 'api', clusterIP: '10.43.77.20' });
    const { sp, eps } = state([a, b], [makeSlice('web', three), makeSlice('api', [{ ip: '10.42.3.3' }])], cfg);
    const full = renderRules({ config: cfg, servicePorts: sp, endpoints: eps, changedServices: null, existingNatChains: [] });
    const partial = renderRules({ config: cfg, servicePorts: sp, endpoints: eps, changedServices: new Set(['default/api']), existingNatChains: full.activeNatChains });
    assert.deepEqual(partial.activeNatChains, full.activeNatChains);
    const text = restoreInput(partial);
    // KUBE-SERVICES still names both; only api's SVC/SEP chains are declared and filled.
    assert.match(text, /cluster IP" .* -d 10\.43\.77\.10 .* -j KUBE-SVC-/);
    assert.equal((text.match(/^:KUBE-SEP-/gm) ?? []).length, 1);
    assert.equal((text.match(/^:KUBE-SVC-/gm) ?? []).length, 1);
    assert.doesNotMatch(text, /^-X /m);
  });

  test('chains no longer used are flushed and deleted; foreign chains are left alone', () => {
    const cfg = config();
    const { sp, eps } = state([web()], [makeSlice('web', three)], cfg);
    const r = renderRules({
      config: cfg,
      servicePorts: sp,
      endpoints: eps,
      changedServices: null,
      existingNatChains: ['KUBE-SEP-AAAAAAAAAAAAAAAA', 'KUBE-SVC-BBBBBBBBBBBBBBBB', 'DOCKER', 'KUBE-SERVICES', 'CNI-HOSTPORT-DNAT'],
    });
    assert.deepEqual(r.deletedNatChains, ['KUBE-SEP-AAAAAAAAAAAAAAAA', 'KUBE-SVC-BBBBBBBBBBBBBBBB']);
    const text = restoreInput(r);
    assert.match(text, /^:KUBE-SEP-AAAAAAAAAAAAAAAA - \[0:0\]$/m);
    assert.match(text, /^-X KUBE-SEP-AAAAAAAAAAAAAAAA$/m);
    assert.doesNotMatch(text, /DOCKER|CNI-HOSTPORT/);
  });

  test(`above ${LARGE_CLUSTER_ENDPOINTS_THRESHOLD} endpoints, per-endpoint comments are dropped`, () => {
    const services: Service[] = [];
    const slices: EndpointSlice[] = [];
    for (let i = 0; i < 340; i++) {
      services.push(makeService({ name: `s${i}`, clusterIP: `10.43.${i >> 8}.${i & 255}` }));
      slices.push(makeSlice(`s${i}`, [1, 2, 3].map((k) => ({ ip: `10.${40 + k}.${i >> 8}.${i & 255}` }))));
    }
    const text = restoreInput(render(services, slices));
    assert.match(text, /^-A KUBE-SEP-\S+ -s \S+ -j KUBE-MARK-MASQ$/m);
    assert.match(text, /^-A KUBE-SVC-\S+ -m statistic --mode random --probability 0\.3333333333 -j KUBE-SEP-\S+$/m);
    // The ClusterIP capture keeps its comment.
    assert.match(text, /^-A KUBE-SERVICES -m comment --comment "default\/s0:http cluster IP"/m);
  });
});
