// Tests for the Go string helpers behind upstream-identical messages.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareGoStrings, goFormatFloat, goFormatNumber, goQuote, sortGoStrings, utf8Length } from './go_strings.ts';

describe('goQuote', () => {
  const cases: Array<[string, string]> = [
    ['', '""'],
    ['abc', '"abc"'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ['line\nbreak\ttab\r', '"line\\nbreak\\ttab\\r"'],
    ['\x00\x01\x7f', '"\\x00\\x01\\x7f"'],
    ['\x07\b\f\v', '"\\a\\b\\f\\v"'],
    ['héllo 世界', '"héllo 世界"'],
    ['\u00a0', '"\\u00a0"'],
    ['\u200b', '"\\u200b"'],
    ['😀', '"😀"'],
  ];
  for (const [input, want] of cases) {
    test(`quotes ${JSON.stringify(input)} as strconv.Quote does`, () => {
      assert.equal(goQuote(input), want);
    });
  }
});

describe('number formatting', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [1.5, '1.5'],
    [100000, '100000'],
    [1e6, '1e+06'],
    [123456789.5, '1.234567895e+08'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-2.5e-7, '-2.5e-07'],
    [1e21, '1e+21'],
  ];
  for (const [n, want] of cases) {
    test(`formats float ${n} like %v`, () => assert.equal(goFormatFloat(n), want));
  }
  test('integers print without exponent', () => {
    assert.equal(goFormatNumber(1000000), '1000000');
    assert.equal(goFormatNumber(-3), '-3');
    assert.equal(goFormatNumber(2.5), '2.5');
  });
});

describe('byte semantics', () => {
  test('utf8Length counts UTF-8 bytes', () => {
    assert.equal(utf8Length('abc'), 3);
    assert.equal(utf8Length('é'), 2);
    assert.equal(utf8Length('世'), 3);
    assert.equal(utf8Length('😀'), 4);
  });
  test('strings sort by code point, not UTF-16 unit', () => {
    // U+FF61 is below U+1F600 by code point, but its UTF-16 unit is above the surrogate.
    assert.deepEqual(sortGoStrings(['😀', '\uff61', 'b', 'a', 'B']), ['B', 'a', 'b', '\uff61', '😀']);
    assert.equal(compareGoStrings('ab', 'abc'), -1);
    assert.equal(compareGoStrings('x', 'x'), 0);
  });
});
