// Tests of the IPv4 helpers: parsing, canonical form, containment, and refusal of other families.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, formatCidr4, parseCidr4, parseIPv4 } from './cidr.ts';

test('IPv4 addresses parse to numbers; anything else is null', () => {
  assert.equal(parseIPv4('10.42.0.1'), 0x0a2a0001);
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  for (const bad of ['10.42.0', '10.42.0.256', 'fd00::1', '1.2.3.4.5', '1.2.3.x', '']) assert.equal(parseIPv4(bad), null, bad);
});

test('blocks are canonicalised and contain what they should', () => {
  const c = parseCidr4('172.17.3.9/16')!;
  assert.equal(formatCidr4(c), '172.17.0.0/16');
  assert.ok(cidrContains(c, parseIPv4('172.17.255.1')!));
  assert.ok(!cidrContains(c, parseIPv4('172.18.0.1')!));
  assert.ok(cidrContains(parseCidr4('0.0.0.0/0')!, parseIPv4('8.8.8.8')!));
  assert.ok(cidrContains(parseCidr4('10.0.0.7/32')!, parseIPv4('10.0.0.7')!));
  for (const bad of ['10.0.0.0', '10.0.0.0/33', 'fd00::/8', '10.0.0.0/x']) assert.equal(parseCidr4(bad), null, bad);
});
