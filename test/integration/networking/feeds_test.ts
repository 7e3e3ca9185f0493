// The API side of node networking against a real API server: the informer feeds of the proxy, the
// cluster DNS and the policy enforcer, the kube-dns Service, the DNS ConfigMap reloaded live, and the
// built-in service load balancer writing LoadBalancer statuses. No iptables: handlers are recorders.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Namespace, Node, Pod, Service } from '../../../src/api/types/core_v1.ts';
import type { EndpointSlice } from '../../../src/api/types/discovery_v1.ts';
import type { NetworkPolicy } from '../../../src/api/types/networking_v1.ts';
import { SharedInformerFactory } from '../../../src/client/informer_factory.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import { RestClient } from '../../../src/client/rest_client.ts';
import type { ForwardConfig } from '../../../src/dns/dns_config.ts';
import { informerDnsSource, watchDnsConfigMap } from '../../../src/dns/informer_source.ts';
import { ensureKubeDnsService } from '../../../src/dns/kube_dns_service.ts';
import { ensureNetworkingRbac, NETWORKING_USER } from '../../../src/agent/networking_client.ts';
import { DnsIndex, followSource } from '../../../src/dns/records.ts';
import { resolve } from '../../../src/dns/resolve.ts';
import { feedEnforcer } from '../../../src/netpol/enforcer_source.ts';
import { feedProxier } from '../../../src/proxy/proxy_source.ts';
import { ServiceLBController } from '../../../src/proxy/service_lb_controller.ts';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { waitFor } from '../../../src/testing/e2e_cluster.ts';

const SERVICES = resourceDescriptor('v1', 'services');
const SLICES = resourceDescriptor('discovery.k8s.io/v1', 'endpointslices');
const NODES = resourceDescriptor('v1', 'nodes');
const CONFIGMAPS = resourceDescriptor('v1', 'configmaps');
const POLICIES = resourceDescriptor('networking.k8s.io/v1', 'networkpolicies');

function svc(name: string, spec: Service['spec'], labels?: Record<string, string>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, spec };
}

describe('networking feeds against a real API server', { timeout: 60_000 }, () => {
  let ts: TestServer;
  let client: RestClient;
  let factory: SharedInformerFactory;
  const proxyEvents: string[] = [];
  const enforcerEvents: string[] = [];
  const configs: ForwardConfig[] = [];
  let index: DnsIndex;
  let lb: ServiceLBController;

  before(async () => {
    ts = await startTestServer();
    client = await RestClient.fromKubeconfig(ts.kubeconfig);
    await ensureKubeDnsService(client, '10.43.0.10');
    await client.resource<Service>(SERVICES).create(svc('web', { clusterIP: '10.43.7.7', ports: [{ name: 'http', port: 80 }] }));
    factory = new SharedInformerFactory(client);
    const rec = (list: string[], tag: string) => (o: { metadata?: { name?: string } }) => list.push(`${tag} ${o.metadata?.name}`);
    feedProxier(factory, {
      onServiceAdd: rec(proxyEvents, 'svc+'), onServiceUpdate: (_o, n) => rec(proxyEvents, 'svc~')(n), onServiceDelete: rec(proxyEvents, 'svc-'),
      onServicesSynced: () => proxyEvents.push('services synced'),
      onEndpointSliceAdd: rec(proxyEvents, 'eps+'), onEndpointSliceUpdate: (_o, n) => rec(proxyEvents, 'eps~')(n), onEndpointSliceDelete: rec(proxyEvents, 'eps-'),
      onEndpointSlicesSynced: () => proxyEvents.push('slices synced'),
    });
    feedEnforcer(factory, {
      onPodAdd: rec(enforcerEvents, 'pod+'), onPodUpdate: (_o, n: Pod) => rec(enforcerEvents, 'pod~')(n), onPodDelete: rec(enforcerEvents, 'pod-'), onPodsSynced: () => enforcerEvents.push('pods synced'),
      onNamespaceAdd: rec(enforcerEvents, 'ns+'), onNamespaceUpdate: (_o, n: Namespace) => rec(enforcerEvents, 'ns~')(n), onNamespaceDelete: rec(enforcerEvents, 'ns-'), onNamespacesSynced: () => enforcerEvents.push('namespaces synced'),
      onNetworkPolicyAdd: rec(enforcerEvents, 'np+'), onNetworkPolicyUpdate: (_o, n: NetworkPolicy) => rec(enforcerEvents, 'np~')(n), onNetworkPolicyDelete: rec(enforcerEvents, 'np-'), onNetworkPoliciesSynced: () => enforcerEvents.push('policies synced'),
    });
    index = new DnsIndex({ nameservers: ['10.43.0.10'] });
    followSource(index, informerDnsSource(factory));
    watchDnsConfigMap(factory, { clusterDomain: 'cluster.local', nodeUpstreams: [], onConfig: (c) => configs.push(c) });
    lb = new ServiceLBController(client, factory);
    lb.run();
    factory.start();
    await factory.waitForCacheSync(10_000);
  });

  after(async () => {
    lb?.dispose();
    await factory?.dispose();
    await client?.dispose();
    await ts?.stop();
  });

  test('the proxy sees Services and slices, but not the kube-dns Service (service-proxy-name)', async () => {
    await waitFor('both synced', () => proxyEvents.includes('services synced') && proxyEvents.includes('slices synced'));
    assert.ok(proxyEvents.includes('svc+ web'), proxyEvents.join(', '));
    assert.ok(!proxyEvents.includes('svc+ kube-dns'), proxyEvents.join(', '));
    await client.resource<EndpointSlice>(SLICES, 'default').create({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.42.0.5'] }], ports: [{ name: 'http', port: 8080 }],
    });
    await waitFor('the slice reaches the proxy', () => proxyEvents.includes('eps+ web-1'));
  });

  test('the kube-dns Service is at the DNS address, and the DNS index follows the API', async () => {
    const dns = await client.resource<Service>(SERVICES, 'kube-system').get('kube-dns');
    assert.equal(dns.spec?.clusterIP, '10.43.0.10');
    assert.deepEqual(dns.spec?.ports?.map((p) => `${p.name}/${p.protocol}`), ['dns/UDP', 'dns-tcp/TCP']);
    // Existing ones are kept as they are.
    assert.equal((await ensureKubeDnsService(client, '10.43.0.10')).metadata?.uid, dns.metadata?.uid);
    await waitFor('index synced', () => index.synced);
    const a = resolve(index, { name: 'kube-dns.kube-system.svc.cluster.local', type: 'A' });
    assert.ok(a.kind === 'answer' && a.answers[0]?.data === '10.43.0.10', JSON.stringify(a));
    await client.resource<Service>(SERVICES).create(svc('late', { clusterIP: '10.43.7.8', ports: [{ port: 80 }] }));
    await waitFor('late Service answered', () => {
      const r = resolve(index, { name: 'late.default.svc.cluster.local', type: 'A' });
      return r.kind === 'answer' && r.answers[0]?.data === '10.43.7.8';
    });
  });

  test('the kube-dns ConfigMap is reloaded live; an invalid one keeps the last good config', async () => {
    const cms = client.resource<ConfigMap>(CONFIGMAPS, 'kube-system');
    await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-dns' }, data: { stubDomains: '{"corp.test": ["192.0.2.53:5353"]}' } });
    await waitFor('stub domain config', () => configs.at(-1)?.stubDomains.get('corp.test')?.[0]?.port === 5353);
    const n = configs.length;
    await cms.patch('kube-dns', 'merge', { data: { stubDomains: '{"corp.test": ["not-an-ip"]}' } });
    await cms.patch('kube-dns', 'merge', { data: { stubDomains: '{"other.test": ["192.0.2.54"]}' } });
    await waitFor('second good config', () => configs.at(-1)?.stubDomains.has('other.test'));
    assert.equal(configs.length, n + 1, 'the invalid version produced no config');
    await cms.delete('kube-dns');
    await waitFor('config cleared', () => configs.at(-1)?.stubDomains.size === 0);
  });

  test('the policy enforcer gets pods, namespaces and policies', async () => {
    await waitFor('all synced', () => ['pods synced', 'namespaces synced', 'policies synced'].every((e) => enforcerEvents.includes(e)));
    assert.ok(enforcerEvents.includes('ns+ default'));
    await client.resource<NetworkPolicy>(POLICIES, 'default').create({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny' }, spec: { podSelector: {} },
    });
    await waitFor('policy seen', () => enforcerEvents.includes('np+ deny'));
    await client.resource<NetworkPolicy>(POLICIES, 'default').delete('deny');
    await waitFor('policy delete seen', () => enforcerEvents.includes('np- deny'));
  });

  test('the service load balancer sets a LoadBalancer\'s ingress to the Ready nodes\' addresses and clears it when the type changes', async () => {
    const nodes = client.resource<Node>(NODES);
    await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    await nodes.patchStatus('n1', 'merge', { status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }], conditions: [{ type: 'Ready', status: 'True' }] } });
    const services = client.resource<Service>(SERVICES, 'default');
    await services.create(svc('lb', { type: 'LoadBalancer', ports: [{ port: 8080 }] }));
    await services.create(svc('other-lb', { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb', ports: [{ port: 8081 }] }));
    const got = await waitFor('status written', async () => {
      const s = await services.get('lb');
      return s.status?.loadBalancer?.ingress?.length ? s : undefined;
    });
    assert.deepEqual(got.status?.loadBalancer?.ingress, [{ ip: '192.0.2.10', ipMode: 'VIP' }]);
    await services.patch('lb', 'merge', { spec: { type: 'ClusterIP', allocateLoadBalancerNodePorts: null, externalTrafficPolicy: null, ports: [{ port: 8080, nodePort: null }] } });
    await waitFor('status cleared', async () => ((await services.get('lb')).status?.loadBalancer?.ingress ?? []).length === 0);
    await lb.settled();
    assert.equal((await services.get('other-lb')).status?.loadBalancer?.ingress, undefined, 'a Service with a loadBalancerClass is left alone');
  });

  test('the networking roles let the networking identity and every node read what networking needs, Secrets only for the former', async () => {
    await ensureNetworkingRbac(client);
    await ensureNetworkingRbac(client); // idempotent
    const as = (user: string, group: string) => (path: string) => ts.request('GET', path, {
      headers: { 'Impersonate-User': user, 'Impersonate-Group': group },
    }).then((r) => r.status);
    const node = as('system:node:n1', 'system:nodes');
    const net = as(NETWORKING_USER, 'system:authenticated');
    // The authorizer follows RBAC objects through a watch: give it a moment.
    await waitFor('the roles in force', async () => (await node('/apis/discovery.k8s.io/v1/endpointslices')) === 200 && (await net('/api/v1/secrets')) === 200, 10_000);
    for (const who of [node, net]) {
      assert.equal(await who('/apis/discovery.k8s.io/v1/endpointslices'), 200);
      assert.equal(await who('/apis/networking.k8s.io/v1/networkpolicies'), 200);
      assert.equal(await who('/api/v1/namespaces/kube-system/configmaps'), 200);
    }
    assert.equal(await net('/api/v1/secrets'), 200);
    assert.equal(await node('/api/v1/secrets'), 403);
    assert.equal(await as('someone', 'system:authenticated')('/apis/discovery.k8s.io/v1/endpointslices'), 403);
  });
});
