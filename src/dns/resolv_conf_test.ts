// Tests of the pod resolver configuration: each dnsPolicy, dnsConfig merging, the kubelet's limits
// and their warning events, and the resolv.conf text.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, PodDNSConfig } from '../api/types/core_v1.ts';
import { formatResolvConf, parseResolvConf, podDnsConfig } from './resolv_conf.ts';
import type { DnsConfigurerOptions } from './resolv_conf.ts';

const HOST = '# host\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lan. corp.example\noptions edns0 timeout:2\n';
const node: DnsConfigurerOptions = { clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local', hostResolvConf: HOST };

function pod(spec: { dnsPolicy?: string; hostNetwork?: boolean; dnsConfig?: PodDNSConfig }, ns = 'shop'): Pod {
  return { metadata: { namespace: ns, name: 'p', uid: 'u1' }, spec: { containers: [], ...spec } };
}

describe('podDnsConfig', () => {
  test('ClusterFirst: cluster DNS, namespace search list before the host one, ndots:5', () => {
    const { config, events } = podDnsConfig(pod({ dnsPolicy: 'ClusterFirst' }), node);
    assert.deepEqual(config, {
      servers: ['10.43.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lan', 'corp.example'],
      options: ['ndots:5'],
    });
    assert.deepEqual(events, []);
    assert.equal(
      formatResolvConf(config),
      'search shop.svc.cluster.local svc.cluster.local cluster.local lan corp.example\nnameserver 10.43.0.10\noptions ndots:5\n',
    );
  });

  test('an unset policy is ClusterFirst', () => {
    assert.deepEqual(podDnsConfig(pod({}), node).config.servers, ['10.43.0.10']);
  });

  test('ClusterFirst on the host network falls back to Default; ClusterFirstWithHostNet does not', () => {
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'ClusterFirst', hostNetwork: true }), node).config, {
      servers: ['192.168.1.1', '192.168.1.2'],
      searches: ['lan', 'corp.example'],
      options: ['edns0', 'timeout:2'],
    });
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }), node).config.servers, ['10.43.0.10']);
  });

  test('Default: the node resolv.conf as is', () => {
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'Default' }), node).config, {
      servers: ['192.168.1.1', '192.168.1.2'],
      searches: ['lan', 'corp.example'],
      options: ['edns0', 'timeout:2'],
    });
  });

  test('Default without a resolv.conf: loopback nameserver per node IP family and search "."', () => {
    const noFile = { ...node, hostResolvConf: undefined, nodeIPs: ['192.0.2.1', '2001:db8::1'] };
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'Default' }), noFile).config, { servers: ['127.0.0.1', '::1'], searches: ['.'], options: [] });
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'Default' }), { ...noFile, nodeIPs: [] }).config.servers, ['127.0.0.1']);
  });

  test('None: only what dnsConfig gives', () => {
    const dnsConfig: PodDNSConfig = { nameservers: ['1.1.1.1'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] };
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig }), node).config, {
      servers: ['1.1.1.1'],
      searches: ['a.example'],
      options: ['ndots:2', 'edns0'],
    });
  });

  test('dnsConfig appends servers and searches without duplicates and overrides options by name', () => {
    const dnsConfig: PodDNSConfig = {
      nameservers: ['10.43.0.10', '9.9.9.9'],
      searches: ['svc.cluster.local', 'extra.example'],
      options: [{ name: 'ndots', value: '1' }, { name: 'single-request-reopen' }],
    };
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'ClusterFirst', dnsConfig }), node).config, {
      servers: ['10.43.0.10', '9.9.9.9'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lan', 'corp.example', 'extra.example'],
      options: ['ndots:1', 'single-request-reopen'],
    });
  });

  test('more than 3 nameservers are cut, with a DNSConfigForming warning', () => {
    const dnsConfig: PodDNSConfig = { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3'] };
    const { config, events } = podDnsConfig(pod({ dnsPolicy: 'ClusterFirst', dnsConfig }), node);
    assert.deepEqual(config.servers, ['10.43.0.10', '1.1.1.1', '2.2.2.2']);
    assert.deepEqual(events, [
      {
        on: 'pod',
        type: 'Warning',
        reason: 'DNSConfigForming',
        message: 'Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 10.43.0.10 1.1.1.1 2.2.2.2',
      },
    ]);
  });

  test('more than 32 search domains are cut to 32', () => {
    const searches = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const { config, events } = podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches } }), node);
    assert.equal(config.searches.length, 32);
    assert.equal(config.searches[31], 'd31.example');
    assert.equal(events.length, 1);
    assert.match(events[0].message, /^Search Line limits were exceeded, some search paths have been omitted, the applied search line is: d0\.example d1\.example/);
  });

  test('a search line over 2048 characters loses domains from the end; domains over 253 characters are dropped', () => {
    const long = (c: string) => `${c.repeat(60)}.${c.repeat(60)}.${c.repeat(60)}.example`; // 190 characters
    const searches = ['x'.repeat(254), ...Array.from({ length: 12 }, (_, i) => long(String.fromCharCode(97 + i)))];
    const { config, events } = podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches } }), node);
    assert.ok(!config.searches.includes('x'.repeat(254)));
    assert.ok(config.searches.join(' ').length <= 2048);
    assert.equal(config.searches.length, 10, '10 x 190 + 9 spaces = 1909 fits; 11 would be 2100');
    assert.equal(events.length, 1);
  });

  test('ClusterFirst without cluster DNS falls back to Default, warning node and pod', () => {
    const { config, events } = podDnsConfig(pod({ dnsPolicy: 'ClusterFirst' }), { ...node, clusterDNS: [] });
    assert.deepEqual(config.servers, ['192.168.1.1', '192.168.1.2']);
    const message = 'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.';
    assert.deepEqual(events, [
      { on: 'node', type: 'Warning', reason: 'MissingClusterDNS', message },
      { on: 'pod', type: 'Warning', reason: 'MissingClusterDNS', message: `pod: "p_shop(u1)". ${message}` },
    ]);
  });

  test('a malformed host resolv.conf fails the pod', () => {
    assert.throws(() => podDnsConfig(pod({}), { ...node, hostResolvConf: 'nameserver\n' }), /nameserver list is empty/);
  });
});

describe('parseResolvConf', () => {
  test('nameservers accumulate, the last search and options lines win, comments are skipped', () => {
    assert.deepEqual(parseResolvConf('nameserver 1.1.1.1\nsearch a b\n#nameserver 3.3.3.3\nsearch c.\nnameserver 2.2.2.2\noptions x\noptions y z\n'), {
      nameservers: ['1.1.1.1', '2.2.2.2'],
      searches: ['c'],
      options: ['y', 'z'],
      errors: [],
    });
  });
});
