// Checks of the service networking printers: services, endpoints, endpoint slices, ingresses,
// ingress classes, network policies, service CIDRs and IP addresses.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from './format.ts';
import {
  endpointSlicePrinter, endpointsPrinter, ingressClassPrinter, ingressPrinter, ipAddressPrinter, networkPolicyPrinter,
  serviceCIDRPrinter, servicePrinter,
} from './services.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ctx = { now: NOW };
function meta(name: string) {
  return { name, creationTimestamp: new Date(NOW - 45_000).toISOString() };
}

describe('service printer', () => {
  const svc = (spec: object, status: object = {}) => ({ metadata: meta('web'), spec, status });
  const cases: { name: string; svc: KObject; want: unknown[] }[] = [
    {
      name: 'a ClusterIP service',
      svc: svc({ type: 'ClusterIP', clusterIP: '10.43.0.10', clusterIPs: ['10.43.0.10'], ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], selector: { k8s: 'dns' } }),
      want: ['web', 'ClusterIP', '10.43.0.10', '<none>', '53/UDP,53/TCP', '45s', 'k8s=dns'],
    },
    {
      name: 'a NodePort service',
      svc: svc({ type: 'NodePort', clusterIPs: ['10.43.12.7'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }], selector: { app: 'web' } }),
      want: ['web', 'NodePort', '10.43.12.7', '<none>', '80:30080/TCP', '45s', 'app=web'],
    },
    {
      name: 'a LoadBalancer service waiting for its address',
      svc: svc({ type: 'LoadBalancer', clusterIPs: ['10.43.1.1'], ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] }),
      want: ['web', 'LoadBalancer', '10.43.1.1', '<pending>', '443:31443/TCP', '45s', '<none>'],
    },
    {
      name: 'a LoadBalancer service with ingress addresses and external IPs',
      svc: svc(
        { type: 'LoadBalancer', clusterIPs: ['10.43.1.1'], externalIPs: ['192.0.2.9'], ports: [{ port: 80, nodePort: 30001, protocol: 'TCP' }] },
        { loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.7' }] } },
      ),
      want: ['web', 'LoadBalancer', '10.43.1.1', '203.0.113.7,lb.example.com,192.0.2.9', '80:30001/TCP', '45s', '<none>'],
    },
    {
      name: 'an ExternalName service',
      svc: svc({ type: 'ExternalName', externalName: 'db.example.com' }),
      want: ['web', 'ExternalName', '<none>', 'db.example.com', '<none>', '45s', '<none>'],
    },
    {
      name: 'a headless service with external IPs and a port without protocol',
      svc: svc({ type: 'ClusterIP', clusterIP: 'None', externalIPs: ['192.0.2.1', '192.0.2.2'], ports: [{ port: 8080 }] }),
      want: ['web', 'ClusterIP', 'None', '192.0.2.1,192.0.2.2', '8080/TCP', '45s', '<none>'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(servicePrinter.row(c.svc, ctx).cells, c.want));
  }

  test('column names as kubectl shows them', () => {
    assert.deepEqual(servicePrinter.columns.map((c) => c.name), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
    assert.equal(servicePrinter.columns[6].priority, 1);
  });
});

describe('endpoints printer', () => {
  test('lists ip:port pairs, three at most', () => {
    const ep = {
      metadata: meta('web'),
      subsets: [
        { addresses: [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }], ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] },
        { addresses: [{ ip: 'fd00::7' }], ports: [{ port: 8080 }] },
      ],
    };
    assert.deepEqual(endpointsPrinter.row(ep, ctx).cells, ['web', '10.42.0.5:80,10.42.0.6:80,10.42.0.5:443 + 2 more...', '45s']);
  });

  test('IPv6 addresses are bracketed and port-less subsets list bare IPs', () => {
    const ep = { metadata: meta('web'), subsets: [{ addresses: [{ ip: 'fd00::7' }], ports: [{ port: 8080 }] }, { addresses: [{ ip: '10.42.0.9' }] }] };
    assert.equal(endpointsPrinter.row(ep, ctx).cells[1], '[fd00::7]:8080,10.42.0.9');
  });

  test('endpoints without subsets read <none>', () => {
    assert.equal(endpointsPrinter.row({ metadata: meta('web') }, ctx).cells[1], '<none>');
  });
});

describe('endpoint slice printer', () => {
  test('prints address type, ports and addresses', () => {
    const slice = {
      metadata: meta('web-abc12'),
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80 }, { name: 'named' }, {}],
      endpoints: [{ addresses: ['10.42.0.5'] }, { addresses: ['10.42.0.6', '10.42.0.7', '10.42.0.8'] }],
    };
    assert.deepEqual(endpointSlicePrinter.row(slice, ctx).cells, ['web-abc12', 'IPv4', '80,named,*', '10.42.0.5,10.42.0.6,10.42.0.7 + 1 more...', '45s']);
  });

  test('an empty slice reads <unset>', () => {
    assert.deepEqual(endpointSlicePrinter.row({ metadata: meta('e'), addressType: 'IPv4', ports: [], endpoints: [] }, ctx).cells.slice(2, 4), ['<unset>', '<unset>']);
  });
});

describe('ingress printers', () => {
  test('an ingress with class, hosts, address and TLS', () => {
    const ing = {
      metadata: meta('shop'),
      spec: { ingressClassName: 'tkube', rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }], tls: [{ hosts: ['a.example.com'] }] },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
    };
    assert.deepEqual(ingressPrinter.row(ing, ctx).cells, ['shop', 'tkube', 'a.example.com,b.example.com', '192.0.2.10', '80, 443', '45s']);
  });

  test('an ingress without class or hosts', () => {
    const ing = { metadata: meta('any'), spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } } };
    assert.deepEqual(ingressPrinter.row(ing, ctx).cells, ['any', '<none>', '*', '', '80', '45s']);
  });

  test('more than three rules count the rest', () => {
    const rules = ['a', 'b', 'c', 'd', 'e'].map((h) => ({ host: `${h}.example.com` }));
    const ing = { metadata: meta('many'), spec: { rules } };
    assert.equal(ingressPrinter.row(ing, ctx).cells[2], 'a.example.com,b.example.com,c.example.com + 2 more...');
  });

  test('an ingress class with and without parameters', () => {
    const withParams = { metadata: meta('nginx'), spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } };
    assert.deepEqual(ingressClassPrinter.row(withParams, ctx).cells, ['nginx', 'k8s.io/ingress-nginx', 'IngressParameters.k8s.example.com/external-lb', '45s']);
    const plain = { metadata: meta('tkube'), spec: { controller: 'tkube.io/ingress' } };
    assert.equal(ingressClassPrinter.row(plain, ctx).cells[2], '<none>');
  });
});

describe('network policy, service CIDR and IP address printers', () => {
  test('a network policy prints its pod selector, <none> when it selects every pod', () => {
    const np = { metadata: meta('deny'), spec: { podSelector: { matchLabels: { role: 'db' } } } };
    assert.deepEqual(networkPolicyPrinter.row(np, ctx).cells, ['deny', 'role=db', '45s']);
    assert.equal(networkPolicyPrinter.row({ metadata: meta('all'), spec: { podSelector: {} } }, ctx).cells[1], '<none>');
  });

  test('a service CIDR lists its ranges', () => {
    assert.deepEqual(serviceCIDRPrinter.row({ metadata: meta('kubernetes'), spec: { cidrs: ['10.43.0.0/16', 'fd00:43::/112'] } }, ctx).cells, ['kubernetes', '10.43.0.0/16,fd00:43::/112', '45s']);
  });

  test('an IP address names its parent', () => {
    const ip = { metadata: meta('10.43.0.1'), spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'kubernetes' } } };
    assert.deepEqual(ipAddressPrinter.row(ip, ctx).cells, ['10.43.0.1', 'services/default/kubernetes']);
  });
});
