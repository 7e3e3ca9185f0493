// Root end-to-end tests of NetworkPolicy enforcement in network namespaces the test creates (never
// the host's own tables): a "node" namespace with a bridge and three "pod" namespaces. Real packets
// check default deny, allow-from-label, egress deny, DNS allowances (to the pod and through a
// DNATed Service IP), ipBlock except, the FORWARD jump staying first, and cleanup. Denied TCP
// connections are REJECTed, so clients see ECONNREFUSED at once rather than a timeout.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { NetworkPolicyEnforcer } from './enforcer.ts';
import { execRunner } from './iptables.ts';
import { makeNamespace, makePod, makePolicy } from './test_fixtures.ts';
import { NetnsLab } from './test_netns.ts';
import type { Pod } from '../api/types/core_v1.ts';
import type { NetworkPolicy } from './types.ts';

const GW = '10.201.0.1';
const WEB = '10.201.0.2';
const DNS = '10.201.0.3';
const CLIENT = '10.201.0.4';
const DNS_SERVICE_IP = '10.201.99.10';

describe('NetworkPolicy enforcement in network namespaces', { concurrency: false }, () => {
  const lab = new NetnsLab(`tkube-netpol-test-${process.pid}`);
  let node = '';
  let web = '';
  let dns = '';
  let client = '';
  let enforcer: NetworkPolicyEnforcer | undefined;
  let clientPod: Pod = makePod({ name: 'client', ip: CLIENT, labels: { role: 'frontend' } });
  const active: NetworkPolicy[] = [];

  before(async () => {
    node = await lab.namespace('node');
    await lab.bridge(node, 'br0', `${GW}/24`);
    await lab.inNs(node, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    web = await lab.namespace('web');
    dns = await lab.namespace('dns');
    client = await lab.namespace('client');
    await lab.attach({ node, bridge: 'br0', pod: web, hostIf: 'vweb', cidr: `${WEB}/24`, gateway: GW });
    await lab.attach({ node, bridge: 'br0', pod: dns, hostIf: 'vdns', cidr: `${DNS}/24`, gateway: GW });
    await lab.attach({ node, bridge: 'br0', pod: client, hostIf: 'vclient', cidr: `${CLIENT}/24`, gateway: GW });
    await lab.startServer(web, 'web', { tcp: [8080] });
    await lab.startServer(dns, 'dns', { tcp: [8080, 53], udp: [53] });
    await lab.startServer(node, 'node', { tcp: [9090] });
    // A stand-in for the Service proxy's DNAT of the DNS Service IP (nat PREROUTING, before filter).
    await lab.inNs(node, 'iptables', ['-t', 'nat', '-A', 'PREROUTING', '-d', `${DNS_SERVICE_IP}/32`, '-p', 'udp', '--dport', '53', '-j', 'DNAT', '--to-destination', `${DNS}:53`]);

    enforcer = await NetworkPolicyEnforcer.create({ nodeName: 'node-a', runner: execRunner(['ip', 'netns', 'exec', node]), minSyncPeriodMs: 0 });
    enforcer.onNamespaceAdd(makeNamespace('default'));
    enforcer.onNamespaceAdd(makeNamespace('kube-system'));
    enforcer.onPodAdd(makePod({ name: 'web', ip: WEB, labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] }));
    enforcer.onPodAdd(makePod({ namespace: 'kube-system', name: 'coredns', ip: DNS, labels: { 'k8s-app': 'kube-dns' } }));
    enforcer.onPodAdd(clientPod);
    enforcer.onPodsSynced();
    enforcer.onNamespacesSynced();
    enforcer.onNetworkPoliciesSynced();
    await enforcer.idle();
    assert.equal(enforcer.lastError, null);
  });

  after(async () => {
    await enforcer?.dispose();
    await lab.dispose();
  });

  async function setPolicies(...policies: NetworkPolicy[]): Promise<void> {
    for (const p of active.splice(0)) enforcer!.onNetworkPolicyDelete(p);
    for (const p of policies) {
      enforcer!.onNetworkPolicyAdd(p);
      active.push(p);
    }
    await enforcer!.idle();
    assert.equal(enforcer!.lastError, null, String(enforcer!.lastError));
  }

  const denyIngress = makePolicy('default', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
  const denyEgress = makePolicy('default', 'default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] });
  const allowFrontend = makePolicy('default', 'web-allow-frontend', {
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 'http' }] }],
  });
  const dnsPorts = [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }];

  test('every golden rule set loads into iptables-restore', async () => {
    const dir = new URL('./testdata/', import.meta.url);
    const restore = enforcer!.iptables.tools.restore;
    // Golden chain names are the enforcer's too: start from an empty table.
    await enforcer!.iptables.cleanup();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.golden')).sort()) {
      const body = readFileSync(new URL(f, dir), 'utf8');
      // Loaded, then removed again by flushing and deleting the same chains.
      const chains = body.split('\n').filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]!);
      await lab.inNs(node, 'sh', ['-c', `printf '%s' "$1" | ${restore} -w 5 --noflush`, 'sh', `*filter\n${body}COMMIT\n`]);
      await lab.inNs(node, 'sh', ['-c', `printf '%s' "$1" | ${restore} -w 5 --noflush`, 'sh', `*filter\n${chains.map((c) => `:${c} - [0:0]`).join('\n')}\n${chains.map((c) => `-X ${c}`).join('\n')}\nCOMMIT\n`]);
    }
    enforcer!.requestFullSync();
    await enforcer!.idle();
    assert.match(await lab.inNs(node, 'iptables', ['-S', 'FORWARD']), /-j TKUBE-NETPOL-FORWARD/);
  });

  test('without policies every pod reaches every other', async () => {
    assert.equal(await lab.tcp(client, WEB, 8080), `web ${CLIENT}`);
    assert.equal(await lab.tcp(web, DNS, 8080), `dns ${WEB}`);
    assert.equal(await lab.udp(client, DNS, 53), `dns ${CLIENT}`);
  });

  test('default deny ingress blocks connections to the namespace, not to others, not from the node', async () => {
    await setPolicies(denyIngress);
    assert.match(await lab.tcp(client, WEB, 8080), /^ERR ECONNREFUSED$/);
    assert.equal(await lab.tcp(client, DNS, 8080), `dns ${CLIENT}`);
    assert.equal(await lab.tcp(node, WEB, 8080), `web ${GW}`);
  });

  test('allow-from-label re-allows only the labelled client, on the named port', async () => {
    await setPolicies(denyIngress, allowFrontend);
    assert.equal(await lab.tcp(client, WEB, 8080), `web ${CLIENT}`);
    // coredns is in another namespace: a podSelector-only peer does not select it.
    assert.match(await lab.tcp(dns, WEB, 8080), /^ERR ECONNREFUSED$/);
    clientPod = makePod({ name: 'client', ip: CLIENT, labels: { role: 'other' } });
    enforcer!.onPodUpdate(clientPod, clientPod);
    await enforcer!.idle();
    assert.match(await lab.tcp(client, WEB, 8080), /^ERR ECONNREFUSED$/);
    clientPod = makePod({ name: 'client', ip: CLIENT, labels: { role: 'frontend' } });
    enforcer!.onPodUpdate(clientPod, clientPod);
    await enforcer!.idle();
    assert.equal(await lab.tcp(client, WEB, 8080), `web ${CLIENT}`);
  });

  test('our FORWARD jump is moved back in front of a rule inserted above it', async () => {
    // Like the Service proxy's KUBE-FORWARD, which ACCEPTs marked packets before anything below.
    const foreign = ['FORWARD', '-s', '10.201.0.0/24', '-j', 'ACCEPT'];
    await lab.inNs(node, 'iptables', ['-I', ...foreign.slice(0, 1), '1', ...foreign.slice(1)]);
    try {
      assert.equal(await lab.tcp(dns, WEB, 8080), `web ${DNS}`, 'the foreign ACCEPT bypasses policies while it is first');
      enforcer!.requestFullSync();
      await enforcer!.idle();
      assert.match(await lab.tcp(dns, WEB, 8080), /^ERR ECONNREFUSED$/);
      const forward = await lab.inNs(node, 'iptables', ['-S', 'FORWARD']);
      assert.match(forward.split('\n')[1]!, /-j TKUBE-NETPOL-FORWARD$/, forward);
      assert.equal((forward.match(/TKUBE-NETPOL-FORWARD/g) ?? []).length, 1, forward);
    } finally {
      await lab.inNs(node, 'iptables', ['-D', ...foreign]);
    }
  });

  test('default deny egress blocks outgoing connections and UDP', async () => {
    await setPolicies(denyEgress);
    assert.match(await lab.tcp(client, DNS, 8080), /^ERR ECONNREFUSED$/);
    assert.equal(await lab.udp(client, DNS, 53), 'ERR TIMEOUT');
    // Traffic to the node itself stays allowed.
    assert.equal(await lab.tcp(client, GW, 9090), `node ${CLIENT}`);
  });

  test('a DNS allowance to the kube-dns pods lets UDP and TCP 53 through, nothing else', async () => {
    await setPolicies(denyEgress, makePolicy('default', 'allow-dns', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: dnsPorts,
      }],
    }));
    assert.equal(await lab.udp(client, DNS, 53), `dns ${CLIENT}`);
    assert.equal(await lab.tcp(client, DNS, 53), `dns ${CLIENT}`);
    assert.match(await lab.tcp(client, DNS, 8080), /^ERR ECONNREFUSED$/);
    // The Service IP is DNATed to the pod before filter FORWARD, so the pod rule covers it too.
    assert.equal(await lab.udp(client, DNS_SERVICE_IP, 53), `dns ${CLIENT}`);
  });

  test('a DNS allowance to the DNS Service IP works through the DNAT', async () => {
    await setPolicies(denyEgress, makePolicy('default', 'allow-dns-service', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: `${DNS_SERVICE_IP}/32` } }], ports: dnsPorts }],
    }));
    assert.equal(await lab.udp(client, DNS_SERVICE_IP, 53), `dns ${CLIENT}`);
    assert.equal(await lab.udp(client, DNS, 53), 'ERR TIMEOUT', 'the pod address itself is not in the block');
  });

  test('ipBlock except blocks one address of an allowed block', async () => {
    await setPolicies(makePolicy('default', 'egress-block', {
      podSelector: { matchLabels: { role: 'frontend' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.201.0.0/24', except: [`${WEB}/32`] } }] }],
    }));
    assert.equal(await lab.tcp(client, DNS, 8080), `dns ${CLIENT}`);
    assert.match(await lab.tcp(client, WEB, 8080), /^ERR ECONNREFUSED$/);
    // Pods the policy does not select are not isolated.
    assert.equal(await lab.tcp(dns, WEB, 8080), `web ${DNS}`);
  });

  test('deleting the policies restores open traffic; cleanup removes every chain of ours', async () => {
    await setPolicies();
    assert.equal(await lab.tcp(client, WEB, 8080), `web ${CLIENT}`);
    await setPolicies(denyIngress);
    assert.match(await lab.tcp(client, WEB, 8080), /^ERR ECONNREFUSED$/);
    await lab.inNs(node, 'iptables', ['-A', 'FORWARD', '-s', '10.99.0.0/16', '-j', 'RETURN']);
    await enforcer!.dispose();
    await enforcer!.iptables.cleanup();
    const all = await lab.inNs(node, enforcer!.iptables.tools.save, ['-t', 'filter']);
    assert.doesNotMatch(all, /TKUBE-/);
    assert.match(all, /-A FORWARD -s 10\.99\.0\.0\/16 -j RETURN/);
    assert.equal(await lab.tcp(client, WEB, 8080), `web ${CLIENT}`);
  });
});
