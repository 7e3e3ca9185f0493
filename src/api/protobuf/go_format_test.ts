// Go's printing of durations and RFC 3339 times, checked against values Go itself prints.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, formatRfc3339 } from './go_format.ts';
import { messageToJson } from './go_json.ts';
import { messageSpec } from './schema.ts';

describe('formatGoDuration', () => {
  test('prints like time.Duration.String()', () => {
    const cases: Array<[bigint, string]> = [
      [0n, '0s'],
      [1n, '1ns'],
      [1500n, '1.5µs'],
      [1_000_000n, '1ms'],
      [1_234_567n, '1.234567ms'],
      [1_500_000_000n, '1.5s'],
      [90_000_000_000n, '1m30s'],
      [3_600_000_000_000n, '1h0m0s'],
      [3_661_000_000_005n, '1h1m1.000000005s'],
      [-1_500_000_000n, '-1.5s'],
      [-999n, '-999ns'],
      [9223372036854775807n, '2562047h47m16.854775807s'],
      [-9223372036854775808n, '-2562047h47m16.854775808s'],
    ];
    for (const [nanos, text] of cases) assert.equal(formatGoDuration(nanos), text, String(nanos));
  });

  test('metav1.Duration decodes to its string form', () => {
    const ctx = { decodeEmbedded: () => assert.fail('no embedded objects') };
    const spec = messageSpec('meta.v1.Duration');
    assert.equal(messageToJson(spec, new Map([[1, 300_000_000_000n]]), ctx), '5m0s');
    assert.equal(messageToJson(spec, undefined, ctx), '0s');
  });
});

describe('formatRfc3339', () => {
  test('prints UTC with seconds or microseconds', () => {
    assert.equal(formatRfc3339(0n), '1970-01-01T00:00:00Z');
    assert.equal(formatRfc3339(1704164645n), '2024-01-02T03:04:05Z');
    assert.equal(formatRfc3339(1704164645n, 5), '2024-01-02T03:04:05.000005Z');
    assert.equal(formatRfc3339(-1n, 999999), '1969-12-31T23:59:59.999999Z');
    assert.equal(formatRfc3339(-62135596800n), '0001-01-01T00:00:00Z');
  });

  test('refuses years RFC 3339 cannot write', () => {
    assert.equal(formatRfc3339(-62167219200n), '0000-01-01T00:00:00Z');
    assert.equal(formatRfc3339(253402300799n), '9999-12-31T23:59:59Z');
    assert.equal(formatRfc3339(-62167219201n), undefined);
    assert.equal(formatRfc3339(253402300800n), undefined);
  });
});
