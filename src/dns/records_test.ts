// Tests of the record index: updates and deletes of each kind replace what the old object
// contributed (forward and reverse), and a cluster of 1,000 Services x 3 endpoints stays cheap.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsIndex, followSource, serviceEntry, sliceEntry } from './records.ts';
import { resolve } from './resolve.ts';
import { clusterIPService, endpointSlice, namespace, service } from './dns_fixture.ts';
import type { DnsAnswer, DnsEvent, Resolution } from './types.ts';

function data(r: Resolution): string[] {
  if (r.kind !== 'answer') return ['next'];
  return (r as DnsAnswer).answers.map((rr) => (typeof rr.data === 'string' ? rr.data : JSON.stringify(rr.data)));
}

function newIndex(now: () => number = Date.now): DnsIndex {
  const index = new DnsIndex({ now });
  index.apply({ type: 'upsert', kind: 'Namespace', object: namespace('default') });
  index.apply({ type: 'synced' });
  return index;
}

const A = (name: string) => ({ name, type: 'A' });
const PTR = (ip: string) => ({ name: `${ip.split('.').reverse().join('.')}.in-addr.arpa`, type: 'PTR' });

describe('DnsIndex', () => {
  test('updating a Service moves its name and its PTR to the new cluster IP', () => {
    const index = newIndex();
    index.apply({ type: 'upsert', kind: 'Service', object: clusterIPService('default', 'db', '10.43.1.1', [{ port: 5432 }]) });
    assert.deepEqual(data(resolve(index, A('db.default.svc.cluster.local'))), ['10.43.1.1']);
    index.apply({ type: 'upsert', kind: 'Service', object: clusterIPService('default', 'db', '10.43.1.2', [{ port: 5432 }]) });
    assert.deepEqual(data(resolve(index, A('db.default.svc.cluster.local'))), ['10.43.1.2']);
    assert.deepEqual(data(resolve(index, PTR('10.43.1.1'))), ['next']);
    assert.deepEqual(data(resolve(index, PTR('10.43.1.2'))), ['db.default.svc.cluster.local']);
  });

  test('deleting a Service makes its name NXDOMAIN and frees its IP', () => {
    const index = newIndex();
    const svc = clusterIPService('default', 'db', '10.43.1.1', [{ port: 5432 }]);
    index.apply({ type: 'upsert', kind: 'Service', object: svc });
    index.apply({ type: 'delete', kind: 'Service', object: svc });
    const r = resolve(index, A('db.default.svc.cluster.local'));
    assert.equal(r.kind === 'answer' && r.rcode, 3);
    assert.deepEqual(data(resolve(index, PTR('10.43.1.1'))), ['next']);
  });

  test('an EndpointSlice update replaces its addresses, readiness included', () => {
    const index = newIndex();
    index.apply({ type: 'upsert', kind: 'Service', object: service('default', 'hl', { clusterIP: 'None', ports: [{ port: 80 }] }) });
    const slice = (eps: { ip: string; ready: boolean }[]) => endpointSlice('default', 'hl', 'hl-1', eps, [{ port: 80 }]);
    index.apply({ type: 'upsert', kind: 'EndpointSlice', object: slice([{ ip: '10.42.0.1', ready: true }, { ip: '10.42.0.2', ready: true }]) });
    assert.deepEqual(data(resolve(index, A('hl.default.svc.cluster.local'))).sort(), ['10.42.0.1', '10.42.0.2']);
    index.apply({ type: 'upsert', kind: 'EndpointSlice', object: slice([{ ip: '10.42.0.2', ready: false }, { ip: '10.42.0.3', ready: true }]) });
    assert.deepEqual(data(resolve(index, A('hl.default.svc.cluster.local'))), ['10.42.0.3']);
    assert.deepEqual(data(resolve(index, PTR('10.42.0.1'))), ['next']);
    assert.deepEqual(data(resolve(index, PTR('10.42.0.2'))), ['next'], 'not-ready addresses have no PTR');
    index.apply({ type: 'delete', kind: 'EndpointSlice', object: slice([]) });
    const r = resolve(index, A('hl.default.svc.cluster.local'));
    assert.equal(r.kind === 'answer' && r.rcode, 3, 'a headless Service without ready endpoints is NXDOMAIN');
  });

  test('a slice relabelled to another Service leaves the first one', () => {
    const index = newIndex();
    for (const n of ['a', 'b']) index.apply({ type: 'upsert', kind: 'Service', object: service('default', n, { clusterIP: 'None' }) });
    index.apply({ type: 'upsert', kind: 'EndpointSlice', object: endpointSlice('default', 'a', 's1', [{ ip: '10.42.0.9' }], []) });
    assert.deepEqual(data(resolve(index, A('a.default.svc.cluster.local'))), ['10.42.0.9']);
    index.apply({ type: 'upsert', kind: 'EndpointSlice', object: endpointSlice('default', 'b', 's1', [{ ip: '10.42.0.9' }], []) });
    assert.deepEqual(data(resolve(index, A('b.default.svc.cluster.local'))), ['10.42.0.9']);
    const r = resolve(index, A('a.default.svc.cluster.local'));
    assert.equal(r.kind === 'answer' && r.rcode, 3);
  });

  test('deleting a namespace makes names under it NXDOMAIN', () => {
    const index = newIndex();
    index.apply({ type: 'delete', kind: 'Namespace', object: namespace('default') });
    const r = resolve(index, A('1-2-3-4.default.pod.cluster.local'));
    assert.equal(r.kind === 'answer' && r.rcode, 3);
  });

  test('every change moves the SOA serial to the time of the change', () => {
    let now = 1_000_000;
    const index = newIndex(() => now);
    assert.equal(index.serial(), 1000);
    now = 2_000_500;
    index.apply({ type: 'upsert', kind: 'Service', object: clusterIPService('default', 'x', '10.43.9.9', []) });
    assert.equal(index.serial(), 2000);
  });

  test('objects without a namespace or name are ignored', () => {
    const index = newIndex();
    index.apply({ type: 'upsert', kind: 'Service', object: { spec: { clusterIP: '10.43.0.1' } } });
    index.apply({ type: 'upsert', kind: 'EndpointSlice', object: { addressType: 'IPv4', endpoints: [] } });
    assert.deepEqual(index.counts(), { services: 0, endpointSlices: 0, namespaces: 1, pods: 0 });
  });

  test('entries: sentinel port for portless objects, dashed-IP hostnames, FQDN slices carry nothing', () => {
    assert.deepEqual(serviceEntry(service('ns', 'x', { clusterIP: '10.0.0.1' }))?.ports, [{ name: '', port: -1, protocol: '' }]);
    assert.equal(serviceEntry(service('ns', 'x', { type: 'ExternalName', externalName: 'a.example.' }))?.externalName, 'a.example');
    const v6 = sliceEntry(endpointSlice('ns', 'x', 's', [{ ip: 'fd00:0:0::1' }, { ip: 'fd00::' }], [], 'IPv6'));
    assert.deepEqual(v6?.addresses.map((a) => [a.ip, a.hostname]), [['fd00::1', 'fd00--1'], ['fd00::', 'fd00--0']]);
    assert.deepEqual(sliceEntry(endpointSlice('ns', 'x', 's', [{ ip: 'a.example' }], [], 'FQDN'))?.addresses, []);
  });

  test('rejects invalid options with the field named', () => {
    assert.throws(() => new DnsIndex({ zone: 'bad_zone' }), /zone: invalid cluster domain/);
    assert.throws(() => new DnsIndex({ ttl: -1 }), /ttl:/);
    assert.throws(() => new DnsIndex({ nameservers: ['nope'] }), /nameservers: invalid IP "nope"/);
  });

  test('1,000 Services x 3 endpoints: building and updating stay cheap', () => {
    const index = newIndex();
    const events: DnsEvent[] = [];
    for (let i = 0; i < 1000; i++) {
      const ip = `10.43.${i >> 8}.${i & 255}`;
      events.push({ type: 'upsert', kind: 'Service', object: clusterIPService('default', `svc-${i}`, ip, [{ name: 'http', port: 80 }]) });
      const eps = [0, 1, 2].map((j) => ({ ip: `10.42.${(i * 3 + j) >> 8}.${(i * 3 + j) & 255}`, ready: true }));
      events.push({ type: 'upsert', kind: 'EndpointSlice', object: endpointSlice('default', `svc-${i}`, `svc-${i}-s`, eps, [{ name: 'http', port: 8080 }]) });
    }
    const t0 = performance.now();
    for (const e of events) index.apply(e);
    const build = performance.now() - t0;
    assert.deepEqual(index.counts(), { services: 1000, endpointSlices: 1000, namespaces: 1, pods: 0 });
    // One slice change touches one entry: 1,000 of them cost about as much as building everything once.
    const t1 = performance.now();
    for (let k = 0; k < 1000; k++) {
      const eps = [0, 1, 2].map((j) => ({ ip: `10.44.${k >> 8}.${(k + j) & 255}`, ready: true }));
      index.apply({ type: 'upsert', kind: 'EndpointSlice', object: endpointSlice('default', 'svc-500', 'svc-500-s', eps, [{ name: 'http', port: 8080 }]) });
    }
    const updates = performance.now() - t1;
    assert.ok(build < 2000, `building took ${build.toFixed(0)} ms`);
    assert.ok(updates < 1000, `1,000 updates took ${updates.toFixed(0)} ms`);
    assert.deepEqual(data(resolve(index, A('svc-999.default.svc.cluster.local'))), ['10.43.3.231']);
    assert.deepEqual(data(resolve(index, A('10-42-11-181.svc-999.default.svc.cluster.local'))), ['10.42.11.181']);
    assert.deepEqual(data(resolve(index, PTR('10.42.0.1'))), ['10-42-0-1.svc-0.default.svc.cluster.local']);
  });
});

describe('followSource', () => {
  test('applies what the source delivers until disposed', () => {
    let handler: ((e: DnsEvent) => void) | undefined;
    const index = new DnsIndex();
    const sub = followSource(index, {
      subscribe(h) {
        handler = h;
        return { dispose: () => (handler = undefined) };
      },
    });
    handler?.({ type: 'upsert', kind: 'Namespace', object: namespace('default') });
    handler?.({ type: 'synced' });
    assert.equal(index.synced, true);
    assert.equal(index.counts().namespaces, 1);
    sub.dispose();
    assert.equal(handler, undefined);
  });
});
