// Table tests of resolve() over the fixture cluster: every record kind of the Kubernetes DNS
// specification, CoreDNS's NODATA/NXDOMAIN/SOA choices, reverse fallthrough and the pod modes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsIndex } from './records.ts';
import { resolve } from './resolve.ts';
import { fixtureEvents, pod } from './dns_fixture.ts';
import type { ClusterDnsOptions, DnsAnswer, Resolution, ResourceRecord } from './types.ts';
import { Rcode } from './types.ts';

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);

function fixtureIndex(options: ClusterDnsOptions = {}): DnsIndex {
  const index = new DnsIndex({ now: () => NOW, ...options });
  for (const e of fixtureEvents()) index.apply(e);
  return index;
}

/** A record as "name TYPE data" (SRV data "prio weight port target"). */
function show(rr: ResourceRecord): string {
  switch (rr.type) {
    case 'SRV':
      return `${rr.name} SRV ${rr.data.priority} ${rr.data.weight} ${rr.data.port} ${rr.data.target}`;
    case 'TXT':
      return `${rr.name} TXT ${rr.data.join(' ')}`;
    case 'SOA':
      return `${rr.name} SOA ${rr.data.mname} ${rr.data.rname}`;
    default:
      return `${rr.name} ${rr.type} ${rr.data}`;
  }
}

function asAnswer(r: Resolution): DnsAnswer {
  assert.equal(r.kind, 'answer', 'expected an answer, got "next"');
  return r as DnsAnswer;
}

const RCODE_NAMES = Object.fromEntries(Object.entries(Rcode).map(([k, v]) => [v, k]));

interface Row {
  /** "name TYPE" */
  readonly q: string;
  /** "NEXT" for not-ours, else the rcode name. */
  readonly rcode: string;
  readonly answers?: readonly string[];
  readonly additionals?: readonly string[];
  /** Whether an SOA is expected in the authority section (default: when there are no answers). */
  readonly soa?: boolean;
}

const Z = 'cluster.local';
const rows: Row[] = [
  // ClusterIP Services
  { q: `web.default.svc.${Z} A`, rcode: 'NOERROR', answers: [`web.default.svc.${Z} A 10.43.0.20`] },
  { q: `WEB.Default.svc.Cluster.Local A`, rcode: 'NOERROR', answers: [`WEB.Default.svc.Cluster.Local A 10.43.0.20`] },
  { q: `web.default.svc.${Z}. A`, rcode: 'NOERROR', answers: [`web.default.svc.${Z} A 10.43.0.20`] },
  { q: `web.default.svc.${Z} AAAA`, rcode: 'NOERROR', answers: [] },
  { q: `noports.default.svc.${Z} A`, rcode: 'NOERROR', answers: [`noports.default.svc.${Z} A 10.43.0.30`] },
  { q: `noports.default.svc.${Z} SRV`, rcode: 'NOERROR', answers: [] },
  { q: `dual.prod.svc.${Z} A`, rcode: 'NOERROR', answers: [`dual.prod.svc.${Z} A 10.43.0.40`] },
  { q: `dual.prod.svc.${Z} AAAA`, rcode: 'NOERROR', answers: [`dual.prod.svc.${Z} AAAA fd00:43::40`] },
  // Unknown names, namespaces, shapes
  { q: `missing.default.svc.${Z} A`, rcode: 'NXDOMAIN', answers: [] },
  { q: `web.nope.svc.${Z} A`, rcode: 'NXDOMAIN', answers: [] },
  { q: `default.svc.${Z} A`, rcode: 'NOERROR', answers: [] },
  { q: `nope.svc.${Z} A`, rcode: 'NXDOMAIN', answers: [] },
  { q: `svc.${Z} A`, rcode: 'NOERROR', answers: [] },
  { q: `${Z} A`, rcode: 'NOERROR', answers: [] },
  { q: `foo.${Z} A`, rcode: 'NXDOMAIN', answers: [] },
  { q: `a.b.c.web.default.svc.${Z} A`, rcode: 'NXDOMAIN', answers: [] },
  { q: `web.default.svc.${Z} MX`, rcode: 'NOERROR', answers: [] },
  { q: `missing.default.svc.${Z} MX`, rcode: 'NXDOMAIN', answers: [] },
  { q: `web.default.svc.${Z} TXT`, rcode: 'NOERROR', answers: [] },
  { q: `${Z} AXFR`, rcode: 'REFUSED', answers: [], soa: false },
  // Headless Services and StatefulSet hostnames
  { q: `nginx.default.svc.${Z} A`, rcode: 'NOERROR', answers: [`nginx.default.svc.${Z} A 10.42.0.5`, `nginx.default.svc.${Z} A 10.42.0.6`] },
  { q: `web-0.nginx.default.svc.${Z} A`, rcode: 'NOERROR', answers: [`web-0.nginx.default.svc.${Z} A 10.42.0.5`] },
  { q: `web-2.nginx.default.svc.${Z} A`, rcode: 'NXDOMAIN', answers: [] },
  { q: `nginx.default.svc.${Z} AAAA`, rcode: 'NOERROR', answers: [] },
  {
    q: `plain-headless.default.svc.${Z} A`,
    rcode: 'NOERROR',
    answers: [`plain-headless.default.svc.${Z} A 10.42.1.1`, `plain-headless.default.svc.${Z} A 10.42.1.2`],
  },
  { q: `10-42-1-2.plain-headless.default.svc.${Z} A`, rcode: 'NOERROR', answers: [`10-42-1-2.plain-headless.default.svc.${Z} A 10.42.1.2`] },
  { q: `notready.default.svc.${Z} A`, rcode: 'NOERROR', answers: [`notready.default.svc.${Z} A 10.42.2.1`] },
  { q: `etcd-0.notready.default.svc.${Z} A`, rcode: 'NOERROR', answers: [`etcd-0.notready.default.svc.${Z} A 10.42.2.1`] },
  { q: `empty-headless.default.svc.${Z} A`, rcode: 'NXDOMAIN', answers: [] },
  // An endpoint name under a ClusterIP Service answers the endpoint (CoreDNS).
  { q: `10-42-3-1.web.default.svc.${Z} A`, rcode: 'NOERROR', answers: [`10-42-3-1.web.default.svc.${Z} A 10.42.3.1`] },
  // SRV
  {
    q: `_http._tcp.web.default.svc.${Z} SRV`,
    rcode: 'NOERROR',
    answers: [`_http._tcp.web.default.svc.${Z} SRV 0 100 80 web.default.svc.${Z}`],
    additionals: [`web.default.svc.${Z} A 10.43.0.20`],
  },
  {
    q: `_dns._udp.web.default.svc.${Z} SRV`,
    rcode: 'NOERROR',
    answers: [`_dns._udp.web.default.svc.${Z} SRV 0 100 53 web.default.svc.${Z}`],
    additionals: [`web.default.svc.${Z} A 10.43.0.20`],
  },
  { q: `_http._udp.web.default.svc.${Z} SRV`, rcode: 'NXDOMAIN', answers: [] },
  { q: `_nope._tcp.web.default.svc.${Z} SRV`, rcode: 'NXDOMAIN', answers: [] },
  {
    q: `web.default.svc.${Z} SRV`,
    rcode: 'NOERROR',
    answers: [
      `web.default.svc.${Z} SRV 0 33 80 web.default.svc.${Z}`,
      `web.default.svc.${Z} SRV 0 33 53 web.default.svc.${Z}`,
      `web.default.svc.${Z} SRV 0 33 8080 web.default.svc.${Z}`,
    ],
    additionals: [`web.default.svc.${Z} A 10.43.0.20`],
  },
  {
    q: `_web._tcp.nginx.default.svc.${Z} SRV`,
    rcode: 'NOERROR',
    answers: [
      `_web._tcp.nginx.default.svc.${Z} SRV 0 50 80 web-0.nginx.default.svc.${Z}`,
      `_web._tcp.nginx.default.svc.${Z} SRV 0 50 80 web-1.nginx.default.svc.${Z}`,
    ],
    additionals: [`web-0.nginx.default.svc.${Z} A 10.42.0.5`, `web-1.nginx.default.svc.${Z} A 10.42.0.6`],
  },
  {
    q: `_http._tcp.dual.prod.svc.${Z} SRV`,
    rcode: 'NOERROR',
    answers: [`_http._tcp.dual.prod.svc.${Z} SRV 0 50 80 dual.prod.svc.${Z}`],
    additionals: [`dual.prod.svc.${Z} A 10.43.0.40`, `dual.prod.svc.${Z} AAAA fd00:43::40`],
  },
  // ExternalName
  { q: `ext.default.svc.${Z} A`, rcode: 'NOERROR', answers: [`ext.default.svc.${Z} CNAME www.example.com`] },
  { q: `ext.default.svc.${Z} CNAME`, rcode: 'NOERROR', answers: [`ext.default.svc.${Z} CNAME www.example.com`] },
  { q: `ext.default.svc.${Z} SRV`, rcode: 'NOERROR', answers: [] },
  { q: `_http._tcp.ext.default.svc.${Z} SRV`, rcode: 'NXDOMAIN', answers: [] },
  { q: `web.default.svc.${Z} CNAME`, rcode: 'NOERROR', answers: [] },
  {
    q: `ext-internal.default.svc.${Z} A`,
    rcode: 'NOERROR',
    answers: [`ext-internal.default.svc.${Z} CNAME web.default.svc.${Z}`, `web.default.svc.${Z} A 10.43.0.20`],
  },
  // Pods (insecure)
  { q: `1-2-3-4.default.pod.${Z} A`, rcode: 'NOERROR', answers: [`1-2-3-4.default.pod.${Z} A 1.2.3.4`] },
  { q: `fd00--1.default.pod.${Z} AAAA`, rcode: 'NOERROR', answers: [`fd00--1.default.pod.${Z} AAAA fd00::1`] },
  { q: `1-2-3-4.default.pod.${Z} AAAA`, rcode: 'NOERROR', answers: [] },
  { q: `1-2-3-4.nope.pod.${Z} A`, rcode: 'NXDOMAIN', answers: [] },
  { q: `not-an-ip.default.pod.${Z} A`, rcode: 'NXDOMAIN', answers: [] },
  { q: `default.pod.${Z} A`, rcode: 'NOERROR', answers: [] },
  // PTR
  { q: `20.0.43.10.in-addr.arpa PTR`, rcode: 'NOERROR', answers: [`20.0.43.10.in-addr.arpa PTR web.default.svc.${Z}`] },
  { q: `5.0.42.10.in-addr.arpa PTR`, rcode: 'NOERROR', answers: [`5.0.42.10.in-addr.arpa PTR web-0.nginx.default.svc.${Z}`] },
  { q: `1.3.42.10.in-addr.arpa PTR`, rcode: 'NOERROR', answers: [`1.3.42.10.in-addr.arpa PTR 10-42-3-1.web.default.svc.${Z}`] },
  { q: `1.2.42.10.in-addr.arpa PTR`, rcode: 'NOERROR', answers: [`1.2.42.10.in-addr.arpa PTR etcd-0.notready.default.svc.${Z}`] },
  {
    q: '0.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.4.0.0.0.0.d.f.ip6.arpa PTR',
    rcode: 'NOERROR',
    answers: [`0.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.4.0.0.0.0.d.f.ip6.arpa PTR dual.prod.svc.${Z}`],
  },
  { q: '7.0.42.10.in-addr.arpa PTR', rcode: 'NEXT' },
  { q: '9.9.9.9.in-addr.arpa PTR', rcode: 'NEXT' },
  { q: '42.10.in-addr.arpa PTR', rcode: 'NEXT' },
  { q: '20.0.43.10.in-addr.arpa A', rcode: 'NEXT' },
  // Zone apex, schema version, nameservers
  { q: `dns-version.${Z} TXT`, rcode: 'NOERROR', answers: [`dns-version.${Z} TXT 1.1.0`] },
  { q: `${Z} SOA`, rcode: 'NOERROR', answers: [`${Z} SOA ns.dns.${Z} hostmaster.${Z}`] },
  { q: `web.default.svc.${Z} SOA`, rcode: 'NOERROR', answers: [] },
  {
    q: `${Z} NS`,
    rcode: 'NOERROR',
    answers: [`${Z} NS kube-dns.kube-system.svc.${Z}`],
    additionals: [`kube-dns.kube-system.svc.${Z} A 10.43.0.10`],
  },
  { q: `ns.dns.${Z} A`, rcode: 'NOERROR', answers: [`ns.dns.${Z} A 10.43.0.10`] },
  // Not ours
  { q: 'example.com A', rcode: 'NEXT' },
  { q: 'local A', rcode: 'NEXT' },
  { q: 'notcluster.local A', rcode: 'NEXT' },
];

describe('resolve over the fixture cluster', () => {
  const index = fixtureIndex();
  for (const row of rows) {
    test(`${row.q} -> ${row.rcode}`, () => {
      const at = row.q.lastIndexOf(' ');
      const r = resolve(index, { name: row.q.slice(0, at), type: row.q.slice(at + 1) });
      if (row.rcode === 'NEXT') {
        assert.equal(r.kind, 'next');
        return;
      }
      const a = asAnswer(r);
      assert.equal(RCODE_NAMES[a.rcode], row.rcode);
      assert.deepEqual(a.answers.map(show), row.answers ?? []);
      if (row.additionals !== undefined) assert.deepEqual(a.additionals.map(show), row.additionals);
      const soa = row.soa ?? (row.answers ?? []).length === 0;
      assert.deepEqual(a.authorities.map((rr) => rr.type), soa ? ['SOA'] : []);
      for (const rr of [...a.answers, ...a.additionals]) {
        if (rr.type !== 'TXT' && rr.type !== 'SOA') assert.equal(rr.ttl, 5, `${show(rr)} has the plugin's TTL`);
      }
    });
  }
});

describe('resolve details', () => {
  test('the SOA carries CoreDNS values and the time of the last change as serial', () => {
    const a = asAnswer(resolve(fixtureIndex(), { name: 'missing.default.svc.cluster.local', type: 'A' }));
    assert.equal(a.authoritative, true);
    assert.deepEqual(a.authorities, [
      {
        name: 'cluster.local',
        type: 'SOA',
        ttl: 5,
        data: {
          mname: 'ns.dns.cluster.local',
          rname: 'hostmaster.cluster.local',
          serial: Math.floor(NOW / 1000),
          refresh: 7200,
          retry: 1800,
          expire: 86400,
          minimum: 5,
        },
      },
    ]);
  });

  test('dns-version is answered with the spec TTL of 28800', () => {
    const a = asAnswer(resolve(fixtureIndex(), { name: 'dns-version.cluster.local', type: 'TXT' }));
    assert.equal(a.answers[0].ttl, 28800);
  });

  test('an ExternalName outside the zone asks the server to chase its target', () => {
    const a = asAnswer(resolve(fixtureIndex(), { name: 'ext.default.svc.cluster.local', type: 'AAAA' }));
    assert.deepEqual(a.chase, { name: 'www.example.com', type: 'AAAA' });
    const inZone = asAnswer(resolve(fixtureIndex(), { name: 'ext-internal.default.svc.cluster.local', type: 'A' }));
    assert.equal(inZone.chase, undefined);
  });

  test('before the source has synced, unknown names are SERVFAIL, known ones answer', () => {
    const index = new DnsIndex({ now: () => NOW });
    for (const e of fixtureEvents()) if (e.type !== 'synced') index.apply(e);
    assert.equal(asAnswer(resolve(index, { name: 'missing.default.svc.cluster.local', type: 'A' })).rcode, Rcode.SERVFAIL);
    assert.equal(asAnswer(resolve(index, { name: 'web.default.svc.cluster.local', type: 'A' })).rcode, Rcode.NOERROR);
  });

  test('the cluster domain is configurable', () => {
    const index = fixtureIndex({ zone: 'k8s.test' });
    const a = asAnswer(resolve(index, { name: 'web.default.svc.k8s.test', type: 'A' }));
    assert.deepEqual(a.answers.map(show), ['web.default.svc.k8s.test A 10.43.0.20']);
    assert.equal(resolve(index, { name: 'web.default.svc.cluster.local', type: 'A' }).kind, 'next');
    const ptr = asAnswer(resolve(index, { name: '20.0.43.10.in-addr.arpa', type: 'PTR' }));
    assert.deepEqual(ptr.answers.map(show), ['20.0.43.10.in-addr.arpa PTR web.default.svc.k8s.test']);
  });

  test('a custom TTL applies to records and the SOA minimum', () => {
    const index = fixtureIndex({ ttl: 30 });
    const a = asAnswer(resolve(index, { name: 'web.default.svc.cluster.local', type: 'A' }));
    assert.equal(a.answers[0].ttl, 30);
    const nx = asAnswer(resolve(index, { name: 'x.default.svc.cluster.local', type: 'A' }));
    const soa = nx.authorities[0];
    assert.ok(soa.type === 'SOA');
    assert.equal(soa.data.minimum, 30);
  });

  test('pods verified answers only IPs of pods in that namespace', () => {
    const index = fixtureIndex({ podMode: 'verified' });
    index.apply({ type: 'upsert', kind: 'Pod', object: pod('default', 'web-0', '10.42.0.5') });
    const ok = asAnswer(resolve(index, { name: '10-42-0-5.default.pod.cluster.local', type: 'A' }));
    assert.deepEqual(ok.answers.map(show), ['10-42-0-5.default.pod.cluster.local A 10.42.0.5']);
    assert.equal(asAnswer(resolve(index, { name: '10-42-0-5.prod.pod.cluster.local', type: 'A' })).rcode, Rcode.NXDOMAIN);
    assert.equal(asAnswer(resolve(index, { name: '1-2-3-4.default.pod.cluster.local', type: 'A' })).rcode, Rcode.NXDOMAIN);
    index.apply({ type: 'delete', kind: 'Pod', object: pod('default', 'web-0', '10.42.0.5') });
    assert.equal(asAnswer(resolve(index, { name: '10-42-0-5.default.pod.cluster.local', type: 'A' })).rcode, Rcode.NXDOMAIN);
  });

  test('pods disabled answers no pod names', () => {
    const index = fixtureIndex({ podMode: 'disabled' });
    assert.equal(asAnswer(resolve(index, { name: '1-2-3-4.default.pod.cluster.local', type: 'A' })).rcode, Rcode.NXDOMAIN);
  });

  test('without namespace tracking, names in any namespace can exist', () => {
    const index = new DnsIndex({ requireNamespaces: false });
    index.markSynced();
    assert.equal(asAnswer(resolve(index, { name: '1-2-3-4.anything.pod.cluster.local', type: 'A' })).rcode, Rcode.NOERROR);
    assert.equal(asAnswer(resolve(index, { name: 'web.anything.svc.cluster.local', type: 'A' })).rcode, Rcode.NXDOMAIN);
  });
});
