// Tests for Go duration text, from Go's time package tables (TestDurationString, TestParseDuration).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationParseError, Hour, Microsecond, Millisecond, Minute, Second, formatDuration, parseDuration } from './duration.ts';

const maxD = (1n << 63n) - 1n;
const minD = -(1n << 63n);

describe('formatDuration', () => {
  const cases: Array<[string, bigint]> = [
    ['0s', 0n],
    ['1ns', 1n],
    ['1.1µs', 1100n],
    ['2.2ms', 2200n * Microsecond],
    ['3.3s', 3300n * Millisecond],
    ['4m5s', 4n * Minute + 5n * Second],
    ['4m5.001s', 4n * Minute + 5001n * Millisecond],
    ['5h6m7.001s', 5n * Hour + 6n * Minute + 7001n * Millisecond],
    ['8m0.000000001s', 8n * Minute + 1n],
    ['2562047h47m16.854775807s', maxD],
    ['-2562047h47m16.854775808s', minD],
    ['1h0m0s', Hour],
    ['-1.5s', -1500n * Millisecond],
  ];
  for (const [want, d] of cases) test(want, () => assert.equal(formatDuration(d), want));
  test('accepts numbers', () => assert.equal(formatDuration(90e9), '1m30s'));
});

describe('parseDuration', () => {
  const cases: Array<[string, bigint]> = [
    ['0', 0n],
    ['5s', 5n * Second],
    ['30s', 30n * Second],
    ['1478s', 1478n * Second],
    ['-5s', -5n * Second],
    ['+5s', 5n * Second],
    ['-0', 0n],
    ['+0', 0n],
    ['5.0s', 5n * Second],
    ['5.6s', 5n * Second + 600n * Millisecond],
    ['5.s', 5n * Second],
    ['.5s', 500n * Millisecond],
    ['1.0s', Second],
    ['1.00s', Second],
    ['1.004s', Second + 4n * Millisecond],
    ['1.0040s', Second + 4n * Millisecond],
    ['100.00100s', 100n * Second + Millisecond],
    ['10ns', 10n],
    ['11us', 11n * Microsecond],
    ['12µs', 12n * Microsecond],
    ['12μs', 12n * Microsecond],
    ['13ms', 13n * Millisecond],
    ['14s', 14n * Second],
    ['15m', 15n * Minute],
    ['16h', 16n * Hour],
    ['3h30m', 3n * Hour + 30n * Minute],
    ['10.5s4m', 4n * Minute + 10n * Second + 500n * Millisecond],
    ['-2m3.4s', -(2n * Minute + 3n * Second + 400n * Millisecond)],
    ['1h2m3s4ms5us6ns', Hour + 2n * Minute + 3n * Second + 4n * Millisecond + 5n * Microsecond + 6n],
    ['39h9m14.425s', 39n * Hour + 9n * Minute + 14n * Second + 425n * Millisecond],
    ['52763797000ns', 52763797000n],
    ['0.3333333333333333333h', 20n * Minute],
    ['9007199254740993ns', (1n << 53n) + 1n],
    ['9223372036854775807ns', maxD],
    ['9223372036854775.807us', maxD],
    ['9223372036s854ms775us807ns', maxD],
    ['-9223372036854775808ns', minD],
    ['-9223372036854775.808us', minD],
    ['-9223372036s854ms775us808ns', minD],
    ['-2562047h47m16.854775808s', minD],
    ['0.100000000000000000000h', 6n * Minute],
    ['0.830103483285477580700h', 49n * Minute + 48n * Second + 372539827n],
  ];
  for (const [s, want] of cases) test(s, () => assert.equal(parseDuration(s), want));

  const bad = ['', '3', '-', 's', '.', '-.', '.s', '+.s', '1d', '\x85\x85', '\xffff', 'hello \xffff world', '9223372036854775810ns', '9223372036854775808ns', '-9223372036854775809ns', '9223372036854776us', '3000000h', '9223372036854775.808us', '9223372036854ms775us808ns'];
  for (const s of bad) test(`rejects ${JSON.stringify(s)}`, () => assert.throws(() => parseDuration(s), DurationParseError));

  test('error texts', () => {
    assert.throws(() => parseDuration(''), { message: 'time: invalid duration ""' });
    assert.throws(() => parseDuration('3'), { message: 'time: missing unit in duration "3"' });
    assert.throws(() => parseDuration('1d'), { message: 'time: unknown unit "d" in duration "1d"' });
    assert.throws(() => parseDuration('1é'), { message: 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"' });
  });
});
