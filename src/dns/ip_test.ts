// Tests of the IP helpers: canonical spellings and reverse names, both directions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressFromReverse, canonicalIP, reverseName } from './ip.ts';

test('canonicalIP: RFC 5952 for IPv6, IPv4-mapped as IPv4, non-IPs undefined', () => {
  assert.equal(canonicalIP('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIP('FD00:0:0:0:0:0:0:1'), 'fd00::1');
  assert.equal(canonicalIP('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(canonicalIP('2001:0db8::0001'), '2001:db8::1');
  assert.equal(canonicalIP('1:0:1:1:1:1:1:1'), '1:0:1:1:1:1:1:1');
  assert.equal(canonicalIP('::'), '::');
  assert.equal(canonicalIP('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(canonicalIP('fe80::1%eth0'), undefined);
  assert.equal(canonicalIP('10.0.0.256'), undefined);
  assert.equal(canonicalIP('None'), undefined);
  assert.equal(canonicalIP(''), undefined);
});

test('reverse names round-trip for both families', () => {
  assert.equal(reverseName('10.43.0.20'), '20.0.43.10.in-addr.arpa');
  assert.equal(addressFromReverse('20.0.43.10.in-addr.arpa'), '10.43.0.20');
  const v6 = reverseName('2001:db8::567:89ab');
  assert.equal(v6, 'b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  assert.equal(addressFromReverse(v6), '2001:db8::567:89ab');
});

test('partial or malformed reverse names are not addresses', () => {
  assert.equal(addressFromReverse('0.43.10.in-addr.arpa'), undefined);
  assert.equal(addressFromReverse('x.0.43.10.in-addr.arpa'), undefined);
  assert.equal(addressFromReverse('1.0.0.ip6.arpa'), undefined);
  assert.equal(addressFromReverse('web.default.svc.cluster.local'), undefined);
});
