// Golden-file tests of the pure renderer for the documentation's NetworkPolicy patterns, and
// property tests of its semantics (isolation, peers, ports, determinism, chain names).
// Regenerate with TKUBE_UPDATE_GOLDEN=1 after an intended change, and review the diff.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  NETPOL_FORWARD,
  chainHash,
  defaultNetpolConfig,
  isNetpolChain,
  podChainName,
  policyChainName,
  policyTypesOf,
  renderNetpolRules,
  renderedText,
  type RenderedNetpol,
} from './rules.ts';
import { NAMESPACES, PODS, makePod, makePolicy, stateOf } from './test_fixtures.ts';
import type { NetpolConfig, NetworkPolicy } from './types.ts';

function render(policies: NetworkPolicy[], over: Partial<NetpolConfig> = {}, pods = PODS): RenderedNetpol {
  return renderNetpolRules(stateOf(pods, NAMESPACES, policies), { ...defaultNetpolConfig('node-a'), ...over });
}

function golden(name: string, r: RenderedNetpol): void {
  const actual = renderedText(r);
  const path = new URL(`./testdata/${name}.golden`, import.meta.url);
  if (process.env['TKUBE_UPDATE_GOLDEN']) writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `testdata/${name}.golden differs (TKUBE_UPDATE_GOLDEN=1 regenerates)`);
}

const denyAllIngress = makePolicy('default', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
const denyAllEgress = makePolicy('default', 'default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] });

describe('golden rules for the documented patterns', () => {
  test('no policies: only the empty dispatch chain', () => {
    golden('no_policies', render([]));
  });

  test('default deny all ingress isolates every local pod of the namespace', () => {
    golden('default_deny_ingress', render([denyAllIngress]));
  });

  test('default deny all egress', () => {
    golden('default_deny_egress', render([denyAllEgress]));
  });

  test('allow all ingress', () => {
    golden('allow_all_ingress', render([makePolicy('default', 'allow-all-ingress', { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] })]));
  });

  test('default deny all ingress and all egress', () => {
    golden('default_deny_all', render([makePolicy('default', 'default-deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })]));
  });

  test('allow ingress from a label on one port', () => {
    golden('allow_from_label', render([
      denyAllIngress,
      makePolicy('default', 'web-allow-frontend', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
      }),
    ]));
  });

  test('namespaceSelector AND podSelector in one peer', () => {
    golden('namespace_and_pod_selector', render([makePolicy('default', 'and', {
      podSelector: { matchLabels: { role: 'db' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'operations' } }, podSelector: { matchLabels: { role: 'client' } } }] }],
    })]));
  });

  test('namespaceSelector OR podSelector as two peers', () => {
    golden('namespace_or_pod_selector', render([makePolicy('default', 'or', {
      podSelector: { matchLabels: { role: 'db' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'operations' } } }, { podSelector: { matchLabels: { role: 'client' } } }] }],
    })]));
  });

  test('the docs example: ipBlock with except, namespaceSelector, podSelector, egress to a block', () => {
    golden('docs_test_network_policy', render([makePolicy('default', 'test-network-policy', {
      podSelector: { matchLabels: { role: 'db' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{
        from: [
          { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
          { namespaceSelector: { matchLabels: { project: 'myproject' } } },
          { podSelector: { matchLabels: { role: 'frontend' } } },
        ],
        ports: [{ protocol: 'TCP', port: 6379 }],
      }],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
    })]));
  });

  test('egress ipBlock with except matches the destination and the pre-DNAT destination', () => {
    golden('egress_ipblock_except', render([makePolicy('default', 'egress-block', {
      podSelector: { matchLabels: { role: 'client' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.42.0.0/16', except: ['10.42.1.0/24', '10.42.0.10/32'] } }] }],
    })]));
  });

  test('named ports resolve per selected pod (ingress) and per destination pod (egress)', () => {
    golden('named_ports', render([
      makePolicy('default', 'ingress-named', {
        podSelector: {},
        ingress: [{ ports: [{ port: 'http' }, { port: 'postgres' }] }],
      }),
      makePolicy('default', 'egress-named', {
        podSelector: { matchLabels: { role: 'client' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ port: 'http' }] }],
      }),
    ]));
  });

  test('endPort ranges and protocol-only ports', () => {
    golden('end_port', render([makePolicy('default', 'multi-port-egress', {
      podSelector: { matchLabels: { role: 'db' } },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] },
        { ports: [{ protocol: 'UDP' }, { protocol: 'SCTP', port: 7777 }] },
      ],
    })]));
  });

  test('DNS egress allowance to kube-dns pods and to the DNS Service IP', () => {
    golden('dns_egress', render([
      denyAllEgress,
      makePolicy('default', 'allow-dns', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
          },
          { to: [{ ipBlock: { cidr: '10.43.0.10/32' } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
        ],
      }),
    ]));
  });
});

describe('rule semantics', () => {
  test('chain names are ours, stable, and fit iptables (28 characters)', () => {
    for (const name of [policyChainName('a-very-long-namespace-name', 'a-very-long-policy-name', 'Ingress'), podChainName('ns', 'p', 'Egress'), NETPOL_FORWARD]) {
      assert.ok(name.length <= 28, name);
      assert.ok(isNetpolChain(name), name);
    }
    assert.equal(chainHash('x'), chainHash('x'));
    assert.notEqual(policyChainName('ns', 'p', 'Ingress'), policyChainName('ns', 'p', 'Egress'));
    assert.equal(isNetpolChain('KUBE-FORWARD'), false);
    assert.equal(isNetpolChain('TKUBE-SOMETHING-ELSE'), false);
  });

  test('policyTypes default to Ingress, plus Egress when egress rules exist', () => {
    assert.deepEqual([...policyTypesOf(makePolicy('d', 'a', { podSelector: {} }))], ['Ingress']);
    assert.deepEqual([...policyTypesOf(makePolicy('d', 'a', { podSelector: {}, egress: [{}] }))], ['Ingress', 'Egress']);
    assert.deepEqual([...policyTypesOf(makePolicy('d', 'a', { podSelector: {}, policyTypes: ['Egress'] }))], ['Egress']);
    const r = render([makePolicy('default', 'implicit', { podSelector: { matchLabels: { role: 'db' } }, egress: [{}] })]);
    assert.ok(r.chains.includes(podChainName('default', 'db', 'Ingress')));
    assert.ok(r.chains.includes(podChainName('default', 'db', 'Egress')));
  });

  test('only local pods of the policy namespace get firewall chains', () => {
    const r = render([makePolicy('prod', 'deny', { podSelector: {}, policyTypes: ['Ingress'] })]);
    // prod's only pod runs on node-b.
    assert.deepEqual(r.chains, [NETPOL_FORWARD]);
    assert.deepEqual(r.stats, { policies: 0, isolatedPods: { ingress: 0, egress: 0 } });
    const onB = render([denyAllIngress], { nodeName: 'node-b' });
    assert.deepEqual(onB.stats.isolatedPods, { ingress: 1, egress: 0 });
    assert.ok(onB.chains.includes(podChainName('default', 'remote-frontend', 'Ingress')));
  });

  test('a podSelector-only peer selects in the policy namespace; an empty namespaceSelector in all', () => {
    const only = render([makePolicy('default', 'p', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }] })]);
    const text = renderedText(only);
    assert.match(text, /-s 10\.42\.1\.20\/32/);
    assert.doesNotMatch(text, /-s 10\.42\.1\.21\/32/, 'prod/api is not in the policy namespace');
    const any = renderedText(render([makePolicy('default', 'p', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'frontend' } } }] }] })]));
    assert.match(any, /-s 10\.42\.1\.20\/32/);
    assert.match(any, /-s 10\.42\.1\.21\/32/);
  });

  test('matchExpressions select peers', () => {
    const text = renderedText(render([makePolicy('default', 'p', {
      podSelector: { matchLabels: { role: 'db' } },
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['operations'] }] }, podSelector: { matchExpressions: [{ key: 'role', operator: 'NotIn', values: ['client'] }] } }] }],
    })]));
    assert.match(text, /-s 10\.42\.1\.21\/32/);
    assert.doesNotMatch(text, /-s 10\.42\.1\.22\/32/);
  });

  test('a named port no selected pod has allows nothing, but still isolates', () => {
    const r = render([makePolicy('default', 'p', { podSelector: { matchLabels: { role: 'client' } }, ingress: [{ ports: [{ port: 'nope' }] }] })]);
    assert.equal(r.stats.isolatedPods.ingress, 1);
    assert.doesNotMatch(renderedText(r), /MARK --set-xmark 0x10000\/0x10000/);
    assert.match(renderedText(r), /-j REJECT/);
  });

  test('SCTP ports allow nothing without the sctp match; DROP is configurable', () => {
    const sctp = makePolicy('default', 'p', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ ports: [{ protocol: 'SCTP', port: 80 }] }] });
    assert.match(renderedText(render([sctp])), /-p sctp -m sctp --dport 80/);
    const without = renderedText(render([sctp], { sctp: false, denyAction: 'DROP' }));
    assert.doesNotMatch(without, /sctp/);
    assert.match(without, /not allowed" -j DROP/);
  });

  test('IPv6 blocks and addresses never reach the IPv4 rules', () => {
    const pods = [...PODS, makePod({ name: 'v6', ip: 'fd00::1' })];
    const text = renderedText(render([makePolicy('default', 'p', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: 'fd00::/8' } }, { podSelector: {} }] }] })], {}, pods));
    assert.doesNotMatch(text, /fd00/);
  });

  test('output does not depend on input order', () => {
    const policies = [denyAllIngress, denyAllEgress, makePolicy('default', 'x', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] })];
    const a = renderNetpolRules(stateOf(PODS, NAMESPACES, policies), defaultNetpolConfig('node-a'));
    const b = renderNetpolRules(stateOf([...PODS].reverse(), [...NAMESPACES].reverse(), [...policies].reverse()), defaultNetpolConfig('node-a'));
    assert.equal(renderedText(a), renderedText(b));
  });

  test('an invalid selector selects nothing instead of throwing', () => {
    const bad = makePolicy('default', 'bad', { podSelector: { matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, policyTypes: ['Ingress'] });
    assert.deepEqual(render([bad]).stats.isolatedPods, { ingress: 0, egress: 0 });
  });
});
