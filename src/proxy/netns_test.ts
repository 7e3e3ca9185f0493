// Root end-to-end tests of the proxy in network namespaces the test creates (never the host's own
// tables): a "node" namespace gets the rules, three endpoint namespaces run tiny servers, and a
// client namespace outside the cluster CIDR plays an external host. Real packets check balancing,
// NodePort, LoadBalancer, masquerade, hairpin, affinity, REJECT, UDP conntrack cleanup, cleanup.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execRunner } from './iptables.ts';
import { clusterBlackholeCIDRs, ensureBlackholeRoutes, removeBlackholeRoutes } from './node_net.ts';
import { Proxier } from './proxier.ts';
import { makeService, makeSlice, type EndpointInput } from './test_fixtures.ts';
import { NetnsLab } from './test_netns.ts';
import type { EndpointSlice, Service } from './types.ts';

const CLUSTER_IP = '10.43.77.10';
const NODE_IP = '10.201.9.1';
const EPS = ['10.200.1.2', '10.200.2.2', '10.200.3.2'];
const PORTS = [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }];

function counts(replies: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of replies) m.set(r.split(' ')[0]!, (m.get(r.split(' ')[0]!) ?? 0) + 1);
  return m;
}

describe('Service proxy in network namespaces', { concurrency: false }, () => {
  const lab = new NetnsLab(`tkube-proxy-test-${process.pid}`);
  let node = '';
  let client = '';
  const epNs: string[] = [];
  let proxier: Proxier | undefined;
  let webSlice: EndpointSlice | undefined;
  let webSvc: Service | undefined;

  before(async () => {
    node = await lab.namespace('node');
    client = await lab.namespace('cli');
    for (let i = 1; i <= 3; i++) {
      const ns = await lab.namespace(`ep${i}`);
      epNs.push(ns);
      await lab.link({ ns: node, ifname: `v${i}`, cidr: `10.200.${i}.1/24` }, { ns, ifname: 'eth0', cidr: `10.200.${i}.2/24` });
      await lab.sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', `10.200.${i}.1`]);
      await lab.startServer(ns, `ep${i}`);
    }
    await lab.link({ ns: node, ifname: 'vc', cidr: `${NODE_IP}/24` }, { ns: client, ifname: 'eth0', cidr: '10.201.9.2/24' });
    await lab.sh('ip', ['-n', client, 'route', 'add', 'default', 'via', NODE_IP]);
    // Like a real host, the node has a default route (to a gateway namespace): its own connect() to
    // a ClusterIP needs one before the nat OUTPUT chain gets to DNAT the packet.
    const gw = await lab.namespace('gw');
    await lab.link({ ns: node, ifname: 'vg', cidr: '10.202.0.1/24' }, { ns: gw, ifname: 'eth0', cidr: '10.202.0.2/24' });
    await lab.sh('ip', ['-n', node, 'route', 'add', 'default', 'via', '10.202.0.2']);
    await lab.inNs(node, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    proxier = await Proxier.create({
      node: { name: 'node-a', ips: [NODE_IP], clusterCIDR: '10.200.0.0/16', serviceCIDR: '10.43.0.0/16' },
      runner: execRunner(['ip', 'netns', 'exec', node]),
      minSyncPeriodMs: 0,
    });
    webSvc = makeService({ name: 'web', clusterIP: CLUSTER_IP, ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] });
    webSlice = makeSlice('web', EPS.map((ip) => ({ ip })), { ports: PORTS });
    proxier.onServiceAdd(webSvc);
    proxier.onEndpointSliceAdd(webSlice);
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    await proxier.idle();
    assert.equal(proxier.lastError, null);
  });

  after(async () => {
    await proxier?.dispose();
    await lab.dispose();
  });

  function setWebEndpoints(eps: EndpointInput[]): Promise<void> {
    const next = makeSlice('web', eps, { ports: PORTS });
    proxier!.onEndpointSliceUpdate(webSlice!, next);
    webSlice = next;
    return proxier!.idle();
  }

  test('route_localnet is set in the node namespace and the backend is detected', async () => {
    assert.equal((await lab.inNs(node, 'sysctl', ['-n', 'net.ipv4.conf.all.route_localnet'])).trim(), '1');
    assert.match(proxier!.iptables.tools.version, /^\d+\.\d+\.\d+$/);
  });

  test('ClusterIP from the node itself balances over all 3 endpoints', async () => {
    const replies = await lab.tcp(node, CLUSTER_IP, 80, 60);
    const c = counts(replies);
    assert.deepEqual([...c.keys()].sort(), ['ep1', 'ep2', 'ep3'], replies.join(', '));
  });

  test('ClusterIP from outside the cluster CIDR is masqueraded', async () => {
    const replies = await lab.tcp(client, CLUSTER_IP, 80, 6);
    for (const r of replies) {
      const [ep, peer] = r.split(' ');
      assert.match(ep!, /^ep[123]$/, r);
      // The endpoint sees the node's address on its link, not the client's 10.201.9.2.
      assert.equal(peer, `10.200.${ep!.slice(2)}.1`, r);
    }
  });

  test('NodePort answers on the node address from outside and on 127.0.0.1 from the node', async () => {
    const svc = makeService({ name: 'np', clusterIP: '10.43.77.11', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
    proxier!.onServiceAdd(svc);
    proxier!.onEndpointSliceAdd(makeSlice('np', [{ ip: EPS[0]! }], { ports: PORTS }));
    await proxier!.idle();
    assert.deepEqual(counts(await lab.tcp(client, NODE_IP, 30080, 3)), new Map([['ep1', 3]]));
    assert.deepEqual(counts(await lab.tcp(node, '127.0.0.1', 30080, 3)), new Map([['ep1', 3]]));
    assert.deepEqual(counts(await lab.tcp(node, NODE_IP, 30080, 1)), new Map([['ep1', 1]]));
  });

  test('LoadBalancer opens its port on the node address and 127.0.0.1', async () => {
    const svc = makeService({ name: 'lb', clusterIP: '10.43.77.12', type: 'LoadBalancer', ports: [{ name: 'http', port: 8081, nodePort: 30081 }] });
    proxier!.onServiceAdd(svc);
    proxier!.onEndpointSliceAdd(makeSlice('lb', [{ ip: EPS[1]! }], { ports: PORTS }));
    await proxier!.idle();
    assert.deepEqual(counts(await lab.tcp(client, NODE_IP, 8081, 2)), new Map([['ep2', 2]]));
    assert.deepEqual(counts(await lab.tcp(node, '127.0.0.1', 8081, 2)), new Map([['ep2', 2]]));
  });

  test('a Service without endpoints and an unallocated ClusterIP are rejected at once', async () => {
    proxier!.onServiceAdd(makeService({ name: 'empty', clusterIP: '10.43.77.13' }));
    await proxier!.idle();
    assert.deepEqual(await lab.tcp(node, '10.43.77.13', 80, 1), ['ERR ECONNREFUSED']);
    assert.deepEqual(await lab.tcp(client, '10.43.77.13', 80, 1), ['ERR ECONNREFUSED']);
    assert.deepEqual(await lab.tcp(node, '10.43.99.99', 80, 1), ['ERR ECONNREFUSED']);
  });

  test('an address the node holds inside the service CIDR (node-local DNS) is not rejected', async () => {
    await lab.sh('ip', ['-n', node, 'addr', 'add', '10.43.77.53/32', 'dev', 'lo']);
    await lab.startServer(node, 'node');
    assert.deepEqual(counts(await lab.tcp(node, '10.43.77.53', 8080, 1)), new Map([['node', 1]]));
    assert.deepEqual(counts(await lab.tcp(client, '10.43.77.53', 8080, 1)), new Map([['node', 1]]));
  });

  test('an endpoint reaching itself through the Service is hairpin-masqueraded', async () => {
    const svc = makeService({ name: 'hair', clusterIP: '10.43.77.14', ports: [{ name: 'http', port: 80 }] });
    proxier!.onServiceAdd(svc);
    proxier!.onEndpointSliceAdd(makeSlice('hair', [{ ip: EPS[2]! }], { ports: PORTS }));
    await proxier!.idle();
    assert.deepEqual(await lab.tcp(epNs[2]!, '10.43.77.14', 80, 1), ['ep3 10.200.3.1']);
  });

  test('sessionAffinity ClientIP sticks to one endpoint', async () => {
    const svc = makeService({ name: 'sticky', clusterIP: '10.43.77.15', sessionAffinity: 'ClientIP', timeoutSeconds: 60, ports: [{ name: 'http', port: 80 }] });
    proxier!.onServiceAdd(svc);
    proxier!.onEndpointSliceAdd(makeSlice('sticky', EPS.map((ip) => ({ ip })), { ports: PORTS }));
    await proxier!.idle();
    assert.equal(counts(await lab.tcp(client, '10.43.77.15', 80, 20)).size, 1);
  });

  test('removing endpoints reprograms the rules', async () => {
    await setWebEndpoints([{ ip: EPS[0]! }]);
    assert.deepEqual(counts(await lab.tcp(node, CLUSTER_IP, 80, 20)), new Map([['ep1', 20]]));
    await setWebEndpoints([]);
    assert.deepEqual(await lab.tcp(node, CLUSTER_IP, 80, 1), ['ERR ECONNREFUSED']);
    await setWebEndpoints(EPS.map((ip) => ({ ip })));
    assert.equal(counts(await lab.tcp(node, CLUSTER_IP, 80, 60)).size, 3);
  });

  test('a UDP flow pinned to a removed endpoint is cleared from conntrack', async () => {
    await setWebEndpoints([{ ip: EPS[0]! }]);
    assert.deepEqual(await lab.udp(client, CLUSTER_IP, 53, 40000, 2), ['ep1 10.200.1.1', 'ep1 10.200.1.1']);
    // ep1 keeps answering, so only the conntrack cleanup can move this flow to ep2.
    await setWebEndpoints([{ ip: EPS[1]! }]);
    assert.equal(proxier!.metrics.conntrackFailures, 0);
    assert.deepEqual(await lab.udp(client, CLUSTER_IP, 53, 40000, 1), ['ep2 10.200.2.1']);
    await setWebEndpoints(EPS.map((ip) => ({ ip })));
  });

  test('blackhole routes keep unowned cluster addresses from leaving; owned ones and ClusterIPs still work', async () => {
    const runner = execRunner(['ip', 'netns', 'exec', node]);
    const cidrs = clusterBlackholeCIDRs({ clusterCIDR: '10.200.0.0/16' });
    await ensureBlackholeRoutes(runner, cidrs);
    await ensureBlackholeRoutes(runner, cidrs);
    assert.match(await lab.inNs(node, 'ip', ['route', 'show', 'type', 'blackhole']), /^blackhole 10\.200\.0\.0\/16/m);
    // Without the route this would leave through the default gateway.
    assert.deepEqual(await lab.tcp(node, '10.200.77.7', 80, 1), ['ERR EINVAL']);
    assert.equal(counts(await lab.tcp(node, CLUSTER_IP, 80, 30)).size, 3);
    await removeBlackholeRoutes(runner, cidrs);
    await removeBlackholeRoutes(runner, cidrs);
    assert.equal((await lab.inNs(node, 'ip', ['route', 'show', 'type', 'blackhole'])).trim(), '');
  });

  test('a full resync keeps exactly one copy of each jump rule; cleanup removes all our rules', async () => {
    proxier!.requestFullSync();
    await proxier!.idle();
    proxier!.requestFullSync();
    await proxier!.idle();
    const nat = await lab.inNs(node, proxier!.iptables.tools.save, ['-t', 'nat']);
    assert.equal((nat.match(/^-A PREROUTING .*-j KUBE-SERVICES$/gm) ?? []).length, 1, nat);
    assert.equal((nat.match(/^-A POSTROUTING .*-j KUBE-POSTROUTING$/gm) ?? []).length, 1, nat);
    const filter = await lab.inNs(node, proxier!.iptables.tools.save, ['-t', 'filter']);
    assert.equal((filter.match(/^-A FORWARD .*-j KUBE-SERVICES$/gm) ?? []).length, 1, filter);
    // A foreign rule survives our cleanup.
    await lab.inNs(node, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-s', '10.99.0.0/16', '-j', 'RETURN']);
    await proxier!.dispose();
    await proxier!.iptables.cleanup();
    const all = await lab.inNs(node, proxier!.iptables.tools.save, []);
    assert.doesNotMatch(all, /KUBE-/);
    assert.match(all, /-A POSTROUTING -s 10\.99\.0\.0\/16 -j RETURN/);
    // Without rules the ClusterIP is just an address nobody routes.
    assert.match((await lab.tcp(node, CLUSTER_IP, 80, 1, 500))[0]!, /^ERR /);
  });
});
