// Tests of the forwarding configuration: the kube-dns ConfigMap format and its validation, node
// resolv.conf upstreams, and which servers a name goes to.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDnsConfigMap, parseNameserver, stubDomainOf, upstreamsFor, upstreamsFromResolvConf } from './dns_config.ts';
import type { ForwardConfig } from './dns_config.ts';

const node = [{ host: '192.0.2.53', port: 53 }];
const opts = { clusterDomain: 'cluster.local', nodeUpstreams: node };

function config(data: Record<string, string>): ForwardConfig {
  const r = parseDnsConfigMap(data, opts);
  if (!r.ok) assert.fail(r.error);
  return r.config;
}

describe('parseDnsConfigMap', () => {
  test('stub domains and upstream nameservers, ports optional', () => {
    const c = config({
      stubDomains: '{"acme.local": ["1.2.3.4"], "Corp.Example.": ["10.0.0.1:5353", "[fd00::53]:54"]}',
      upstreamNameservers: '["8.8.8.8", "8.8.4.4:53"]',
    });
    assert.deepEqual([...c.stubDomains], [
      ['acme.local', [{ host: '1.2.3.4', port: 53 }]],
      ['corp.example', [{ host: '10.0.0.1', port: 5353 }, { host: 'fd00::53', port: 54 }]],
    ]);
    assert.deepEqual(c.upstreams, [{ host: '8.8.8.8', port: 53 }, { host: '8.8.4.4', port: 53 }]);
  });

  test('no ConfigMap, or no upstreamNameservers, means the node resolv.conf servers', () => {
    assert.deepEqual(config({}).upstreams, node);
    const r = parseDnsConfigMap(undefined, opts);
    assert.ok(r.ok && r.config.upstreams === node && r.config.stubDomains.size === 0);
    assert.deepEqual(config({ upstreamNameservers: '[]' }).upstreams, node);
  });

  const bad: [Record<string, string>, string][] = [
    [{ stubDomains: '{"acme.local": ["1.2.3.4"' }, 'stubDomains: '],
    [{ stubDomains: '["acme.local"]' }, 'stubDomains: must be a JSON object of domain to nameserver list'],
    [{ stubDomains: '{"bad_domain": ["1.2.3.4"]}' }, 'invalid domain name: "bad_domain"'],
    [{ stubDomains: '{"cluster.local": ["1.2.3.4"]}' }, 'invalid domain name: "cluster.local": stub domain cannot be the cluster domain'],
    [{ stubDomains: '{"acme.local": ["1.2.3.4:99999"]}' }, 'invalid nameserver: "1.2.3.4:99999"'],
    [{ stubDomains: '{"acme.local": ["ns.acme.local"]}' }, 'invalid nameserver: "ns.acme.local"'],
    [{ upstreamNameservers: '["1.1.1.1","2.2.2.2","3.3.3.3","4.4.4.4"]' }, 'upstreamNameserver cannot have more than three entries'],
    [{ upstreamNameservers: '["1.1.1"]' }, 'invalid nameserver: "1.1.1"'],
  ];
  for (const [data, error] of bad) {
    test(`rejects ${JSON.stringify(data)}`, () => {
      const r = parseDnsConfigMap(data, opts);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.error.startsWith(error), !r.ok ? r.error : '');
    });
  }
});

describe('upstream selection', () => {
  test('the longest stub domain wins, else the upstreams, else nowhere', () => {
    const c = config({ stubDomains: '{"acme.local": ["1.1.1.1"], "eu.acme.local": ["2.2.2.2"]}', upstreamNameservers: '["9.9.9.9"]' });
    assert.deepEqual(upstreamsFor(c, 'www.eu.acme.local'), { zone: 'eu.acme.local', servers: [{ host: '2.2.2.2', port: 53 }] });
    assert.deepEqual(upstreamsFor(c, 'acme.local'), { zone: 'acme.local', servers: [{ host: '1.1.1.1', port: 53 }] });
    assert.deepEqual(upstreamsFor(c, 'notacme.local'), { zone: '.', servers: [{ host: '9.9.9.9', port: 53 }] });
    assert.equal(stubDomainOf(c, 'notacme.local'), undefined);
    assert.equal(stubDomainOf(c, 'x.acme.local'), 'acme.local');
    assert.equal(upstreamsFor({ stubDomains: new Map(), upstreams: [] }, 'example.com'), undefined);
  });

  test('resolv.conf nameservers, without the cluster DNS itself and duplicates', () => {
    const text = '# generated\nsearch lan\nnameserver 10.43.0.10\nnameserver 192.168.1.1\nnameserver fe80::1%eth0\nnameserver 192.168.1.1\nnameserver\n';
    assert.deepEqual(upstreamsFromResolvConf(text, ['10.43.0.10']), [
      { host: '192.168.1.1', port: 53 },
      { host: 'fe80::1', port: 53 },
    ]);
  });

  test('nameserver syntax', () => {
    assert.deepEqual(parseNameserver('fd00::1'), { host: 'fd00::1', port: 53 });
    assert.deepEqual(parseNameserver('[fd00::1]'), { host: 'fd00::1', port: 53 });
    assert.equal(parseNameserver('1.2.3.4:0'), undefined);
    assert.equal(parseNameserver(''), undefined);
  });
});
