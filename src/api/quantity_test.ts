// Tests for resource.Quantity, driven by upstream's quantity_test.go tables (parse values and
// formats, canonical strings, kept original text, rounding, arithmetic, scaled values).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ErrFormatWrong,
  ErrSuffix,
  QuantityParseError,
  Scale,
  addQuantity,
  canonicalQuantityString,
  cmpQuantity,
  mulQuantity,
  negQuantity,
  newMilliQuantity,
  newQuantity,
  newScaledQuantity,
  normalizeQuantity,
  parseQuantity,
  quantityFromJSON,
  quantityMilliValue,
  quantityString,
  quantityToNumber,
  quantityValue,
  roundUpQuantity,
  scaledValue,
  subQuantity,
  tryParseQuantity,
  type Quantity,
  type QuantityFormat,
} from './quantity.ts';

const D: QuantityFormat = 'DecimalSI';
const B: QuantityFormat = 'BinarySI';
const E: QuantityFormat = 'DecimalExponent';
const q = (unscaled: bigint | number, scale: number, format: QuantityFormat): Quantity => ({ unscaled: BigInt(unscaled), scale, format });
const maxInt64 = (1n << 63n) - 1n;

// TestQuantityParse: input, expected value (unscaled × 10^scale) and format.
const parseTable: Array<[string, Quantity]> = [
  ['0', q(0, 0, D)],
  ['0n', q(0, 0, D)],
  ['0u', q(0, 0, D)],
  ['0m', q(0, 0, D)],
  ['0Ki', q(0, 0, B)],
  ['0k', q(0, 0, D)],
  ['0Mi', q(0, 0, B)],
  ['0M', q(0, 0, D)],
  ['0Gi', q(0, 0, B)],
  ['0G', q(0, 0, D)],
  ['0Ti', q(0, 0, B)],
  ['0T', q(0, 0, D)],
  ['1', q(1, 0, D)],
  ['1Ki', q(1024, 0, B)],
  ['8Ki', q(8 * 1024, 0, B)],
  ['7Mi', q(7 * 1024 * 1024, 0, B)],
  ['6Gi', q(6n * 1024n ** 3n, 0, B)],
  ['5Ti', q(5n * 1024n ** 4n, 0, B)],
  ['4Pi', q(4n * 1024n ** 5n, 0, B)],
  ['3Ei', q(3n * 1024n ** 6n, 0, B)],
  ['10Ti', q(10n * 1024n ** 4n, 0, B)],
  ['100Ti', q(100n * 1024n ** 4n, 0, B)],
  ['5n', q(5, -9, D)],
  ['4u', q(4, -6, D)],
  ['3m', q(3, -3, D)],
  ['9', q(9, 0, D)],
  ['8k', q(8, 3, D)],
  ['50k', q(5, 4, D)],
  ['7M', q(7, 6, D)],
  ['6G', q(6, 9, D)],
  ['5T', q(5, 12, D)],
  ['40T', q(4, 13, D)],
  ['300T', q(3, 14, D)],
  ['2P', q(2, 15, D)],
  ['1E', q(1, 18, D)],
  ['1E-3', q(1, -3, E)],
  ['1e3', q(1, 3, E)],
  ['1E6', q(1, 6, E)],
  ['1e9', q(1, 9, E)],
  ['1E12', q(1, 12, E)],
  ['1e15', q(1, 15, E)],
  ['1E18', q(1, 18, E)],
  ['1e14', q(1, 14, E)],
  ['1e13', q(1, 13, E)],
  ['100.035k', q(100035, 0, D)],
  ['0.001', q(1, -3, D)],
  ['0.0005k', q(5, -1, D)],
  ['0.005', q(5, -3, D)],
  ['0.05', q(5, -2, D)],
  ['0.5', q(5, -1, D)],
  ['0.00050k', q(5, -1, D)],
  ['0.00500', q(5, -3, D)],
  ['0.05000', q(5, -2, D)],
  ['0.50000', q(5, -1, D)],
  ['0.5e0', q(5, -1, E)],
  ['0.5e-1', q(5, -2, E)],
  ['0.5e-2', q(5, -3, E)],
  ['10.035M', q(10035, 3, D)],
  ['1.2e3', q(12, 2, E)],
  ['1.3E+6', q(13, 5, E)],
  ['1.40e9', q(14, 8, E)],
  ['1.53E12', q(153, 10, E)],
  ['1.6e15', q(16, 14, E)],
  ['1.7E18', q(17, 17, E)],
  ['9.01', q(901, -2, D)],
  ['8.1k', q(81, 2, D)],
  ['7.123456M', q(7123456, 0, D)],
  ['6.987654321G', q(6987654321, 0, D)],
  ['5.444T', q(5444, 9, D)],
  ['40.1T', q(401, 11, D)],
  ['300.2T', q(3002, 11, D)],
  ['2.5P', q(25, 14, D)],
  ['1.01E', q(101, 16, D)],
  ['3.001n', q(4, -9, D)],
  ['1.1E-9', q(2, -9, E)],
  ['0.0000000001', q(1, -9, D)],
  ['0.0000000005', q(1, -9, D)],
  ['0.00000000050', q(1, -9, D)],
  ['0.5e-9', q(1, -9, E)],
  ['0.9n', q(1, -9, D)],
  ['0.00000012345', q(124, -9, D)],
  ['0.00000012354', q(124, -9, D)],
  ['9Ei', q(maxInt64, 0, B)],
  ['9223372036854775807Ki', q(maxInt64, 0, B)],
  ['12E', q(12, 18, D)],
  ['100.035Ki', q(10243584, -2, B)],
  ['0.5Mi', q(0.5 * 1024 * 1024, 0, B)],
  ['0.05Gi', q(536870912, -1, B)],
  ['0.025Ti', q(274877906944, -1, B)],
  ['0.000000000001Ki', q(2, -9, D)],
  ['.001', q(1, -3, D)],
  ['.0001k', q(100, -3, D)],
  ['1.', q(1, 0, D)],
  ['1.G', q(1, 9, D)],
];

describe('parseQuantity (TestQuantityParse)', () => {
  for (const [input, want] of parseTable) {
    test(input, () => {
      const got = parseQuantity(input);
      assert.equal(cmpQuantity(got, want), 0, `${input}: got ${quantityString(got)}, want ${canonicalQuantityString(want)}`);
      assert.equal(got.format, want.format);
      const neg = parseQuantity('-' + input);
      assert.equal(cmpQuantity(neg, negQuantity(want)), 0);
      assert.equal(neg.format, want.format);
      const plus = parseQuantity('+' + input);
      assert.equal(cmpQuantity(plus, want), 0);
      assert.equal(plus.format, want.format);
    });
  }
  test('empty string is an error', () => assert.throws(() => parseQuantity(''), { message: ErrFormatWrong }));
  for (const bad of ['1.1.M', '1+1.0M', '0.1mi', '0.1am', 'aoeu', '.5i', '1i', '-3.01i', '-3.01e-', ' 1', '1 ', 'Non-Numeric']) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseQuantity(bad), QuantityParseError));
  }
  test('error texts', () => {
    assert.equal(ErrFormatWrong, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    assert.throws(() => parseQuantity('1.1.M'), { message: ErrFormatWrong });
    assert.throws(() => parseQuantity('0.1mi'), { message: ErrSuffix });
    assert.throws(() => parseQuantity('1e'), { message: "unable to parse quantity's suffix" });
    assert.equal(tryParseQuantity('abc'), null);
    assert.notEqual(tryParseQuantity('1'), null);
  });
});

describe('canonical strings (TestQuantityString)', () => {
  const table: Array<[Quantity, string, string]> = [
    [q(1024n ** 3n, 0, B), '1Gi', '1024Mi'],
    [q(300 * 1024 * 1024, 0, B), '300Mi', '307200Ki'],
    [q(6 * 1024, 0, B), '6Ki', ''],
    [q(1001n * 1024n ** 3n, 0, B), '1001Gi', '1025024Mi'],
    [q(1024n ** 4n, 0, B), '1Ti', '1024Gi'],
    [q(5, 0, B), '5', '5000m'],
    [q(500, -3, B), '500m', '0.5'],
    [q(1, 9, D), '1G', '1000M'],
    [q(1000, 6, D), '1G', '0.001T'],
    [q(1000000, 3, D), '1G', ''],
    [q(1000000000, 0, D), '1G', ''],
    [q(1, -3, D), '1m', '1000u'],
    [q(80, -3, D), '80m', ''],
    [q(1080, -3, D), '1080m', '1.08'],
    [q(108, -2, D), '1080m', '1080000000n'],
    [q(10800, -4, D), '1080m', ''],
    [q(300, 6, D), '300M', ''],
    [q(1, 12, D), '1T', ''],
    [q(1234567, 6, D), '1234567M', ''],
    [q(1234567, -3, B), '1234567m', ''],
    [q(3, 3, D), '3k', ''],
    [q(1025, 0, B), '1025', ''],
    [q(0, 0, D), '0', ''],
    [q(0, 0, B), '0', ''],
    [q(1, 9, E), '1e9', '.001e12'],
    [q(1, -3, E), '1e-3', '0.001e0'],
    [q(1, -9, E), '1e-9', '1000e-12'],
    [q(80, -3, E), '80e-3', ''],
    [q(300, 6, E), '300e6', ''],
    [q(1, 12, E), '1e12', ''],
    [q(1, 3, E), '1e3', ''],
    [q(3, 3, E), '3e3', ''],
    [q(0, 0, E), '0', '00'],
    [q(1, -9, D), '1n', ''],
    [q(80, -9, D), '80n', ''],
    [q(1080, -9, D), '1080n', ''],
    [q(108, -8, D), '1080n', ''],
    [q(10800, -10, D), '1080n', ''],
    [q(1, -6, D), '1u', ''],
    [q(80, -6, D), '80u', ''],
    [q(1080, -6, D), '1080u', ''],
  ];
  for (const [value, expect, alternate] of table) {
    test(expect, () => {
      assert.equal(quantityString(value), expect);
      const parsed = parseQuantity(expect);
      assert.equal(parsed.s, expect, 'the canonical text is kept on parse');
      if (alternate !== '') {
        const alt = parseQuantity(alternate);
        assert.equal(alt.s, undefined, `${alternate} is not kept`);
        assert.equal(quantityString(alt), expect);
      }
      if (value.unscaled !== 0n) assert.equal(quantityString(negQuantity(value)), '-' + expect);
    });
  }
});

describe('parse then emit (TestQuantityParseEmit and friends)', () => {
  const table: Array<[string, string]> = [
    ['1Ki', '1Ki'],
    ['1Mi', '1Mi'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1000M', '1G'],
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
    // Brief examples and common resource values.
    ['100m', '100m'],
    ['1500m', '1500m'],
    ['0.5', '500m'],
    ['1.5', '1500m'],
    ['2000m', '2'],
    ['128974848', '128974848'],
    ['129e6', '129e6'],
    ['123Mi', '123Mi'],
    ['0.1Gi', '107374182400m'],
    ['1e3', '1e3'],
    ['1000e0', '1e3'],
    ['9Ei', '9223372036854775807'],
    ['12E', '12E'],
    ['100E', '100E'],
  ];
  for (const [input, want] of table) {
    test(`${input} → ${want}`, () => {
      assert.equal(normalizeQuantity(input), want);
      if (want !== '0') assert.equal(quantityString(parseQuantity('-' + input)), '-' + want);
    });
  }
  test('upstream keeps some non-canonical texts verbatim', () => {
    assert.equal(normalizeQuantity('+1'), '+1');
    assert.equal(normalizeQuantity('1.'), '1.');
    assert.equal(canonicalQuantityString(parseQuantity('1.')), '1');
  });
  test('beyond E upstream has no suffix and prints the digits alone', () => {
    assert.equal(normalizeQuantity('1000E'), '1');
  });
  test('zero', () => {
    assert.equal(normalizeQuantity('0'), '0');
    assert.equal(normalizeQuantity('0Mi'), '0');
    assert.equal(normalizeQuantity('-0.0'), '0');
  });
  test('JSON numbers and padded strings', () => {
    assert.equal(quantityString(quantityFromJSON(2)), '2');
    assert.equal(quantityString(quantityFromJSON(0.25)), '250m');
    assert.equal(quantityString(quantityFromJSON(' 1Gi ')), '1Gi');
  });
});

describe('rounding (TestQuantityRoundUp)', () => {
  const table: Array<[string, number, Quantity, boolean]> = [
    ['9.01', -3, q(901, -2, D), true],
    ['9.01', -2, q(901, -2, D), true],
    ['9.01', -1, q(91, -1, D), false],
    ['9.01', 0, q(10, 0, D), false],
    ['9.01', 1, q(10, 0, D), false],
    ['9.01', 2, q(100, 0, D), false],
    ['-9.01', -3, q(-901, -2, D), true],
    ['-9.01', -2, q(-901, -2, D), true],
    ['-9.01', -1, q(-91, -1, D), false],
    ['-9.01', 0, q(-10, 0, D), false],
    ['-9.01', 1, q(-10, 0, D), false],
    ['-9.01', 2, q(-100, 0, D), false],
  ];
  for (const [input, scale, want, exact] of table) {
    test(`${input} at ${scale}`, () => {
      const r = roundUpQuantity(parseQuantity(input), scale);
      assert.equal(r.exact, exact);
      assert.equal(cmpQuantity(r.quantity, want), 0);
    });
  }
});

describe('comparison and arithmetic', () => {
  test('TestQuantityCmp', () => {
    assert.equal(cmpQuantity(parseQuantity('0'), parseQuantity('0')), 0);
    assert.equal(cmpQuantity(parseQuantity('100m'), parseQuantity('50m')), 1);
    assert.equal(cmpQuantity(parseQuantity('50m'), parseQuantity('100m')), -1);
    assert.equal(cmpQuantity(parseQuantity('10000T'), parseQuantity('100Gi')), 1);
    assert.equal(cmpQuantity(parseQuantity('1Gi'), parseQuantity('1073741824')), 0);
  });
  test('TestAdd / TestSub', () => {
    assert.equal(cmpQuantity(addQuantity(q(10, 0, D), q(1, 1, D)), q(20, 0, D)), 0);
    const mixed = addQuantity(q(10, 0, B), q(1, 0, D));
    assert.equal(cmpQuantity(mixed, q(11, 0, B)), 0);
    assert.equal(mixed.format, B);
    assert.equal(cmpQuantity(subQuantity(q(10, 0, D), q(1, 1, D)), q(0, 0, D)), 0);
    assert.equal(cmpQuantity(subQuantity(q(0, 0, D), q(50, 0, D)), q(-50, 0, D)), 0);
    assert.equal(quantityString(addQuantity(parseQuantity('100m'), parseQuantity('250m'))), '350m');
    assert.equal(quantityString(addQuantity(parseQuantity('1Gi'), parseQuantity('512Mi'))), '1536Mi');
  });
  test('adding or subtracting zero keeps the suffix (TestQuantityAddZeroPreservesSuffix)', () => {
    const zero = parseQuantity('0');
    for (const v of ['100m', '1Gi']) {
      const x = parseQuantity(v);
      assert.equal(quantityString(addQuantity(x, zero)), v);
      assert.equal(quantityString(addQuantity(zero, x)), v);
      assert.equal(quantityString(subQuantity(x, zero)), v);
      assert.equal(quantityString(subQuantity(zero, x)), quantityString(negQuantity(x)));
    }
  });
  test('TestQuantityNeg and TestMul', () => {
    assert.equal(quantityString(negQuantity(q(901, -2, D))), '-9010m');
    assert.equal(cmpQuantity(mulQuantity(q(10, 0, D), 10), q(100, 0, D)), 0);
    assert.equal(quantityString(mulQuantity(parseQuantity('250m'), 4)), '1');
  });
});

describe('values', () => {
  test('TestScaledValue', () => {
    const table: Array<[number, number, bigint]> = [
      [Scale.Nano, Scale.Nano, 1n],
      [Scale.Nano, Scale.Micro, 1n],
      [Scale.Nano, Scale.Milli, 1n],
      [Scale.Nano, 0, 1n],
      [Scale.Micro, Scale.Nano, 1000n],
      [Scale.Micro, Scale.Micro, 1n],
      [Scale.Micro, Scale.Milli, 1n],
      [Scale.Micro, 0, 1n],
      [Scale.Milli, Scale.Nano, 1000000n],
      [Scale.Milli, Scale.Micro, 1000n],
      [Scale.Milli, Scale.Milli, 1n],
      [Scale.Milli, 0, 1n],
      [0, Scale.Nano, 1000000000n],
      [0, Scale.Micro, 1000000n],
      [0, Scale.Milli, 1000n],
      [0, 0, 1n],
      [2, -2, 10000n],
    ];
    for (const [from, to, want] of table) assert.equal(scaledValue(newScaledQuantity(1, from), to), want, `${from}→${to}`);
  });
  test('Value and MilliValue round up', () => {
    assert.equal(quantityMilliValue(parseQuantity('100m')), 100n);
    assert.equal(quantityMilliValue(parseQuantity('1.5')), 1500n);
    assert.equal(quantityMilliValue(parseQuantity('1n')), 1n);
    assert.equal(quantityValue(parseQuantity('1Gi')), 1073741824n);
    assert.equal(quantityValue(parseQuantity('100m')), 1n);
    assert.equal(quantityValue(parseQuantity('-1.5')), -2n);
    assert.equal(quantityValue(parseQuantity('1Ei')), 1152921504606846976n);
    assert.equal(quantityToNumber(parseQuantity('1.5Gi')), 1610612736);
  });
  test('constructors (TestNewSet, TestMilliNewSet, TestNewScaledSet)', () => {
    const news: Array<[bigint, QuantityFormat, string]> = [
      [1n, D, '1'],
      [1000n, D, '1k'],
      [1234000n, D, '1234k'],
      [1024n, B, '1Ki'],
      [1000000n, E, '1e6'],
      [1024n * 1024n, B, '1Mi'],
    ];
    for (const [v, f, want] of news) {
      assert.equal(quantityString(newQuantity(v, f)), want);
      assert.equal(quantityValue(parseQuantity(want)), v);
    }
    const millis: Array<[number, QuantityFormat, string]> = [
      [1, D, '1m'],
      [1000, D, '1'],
      [1234000, D, '1234'],
      [1024, B, '1024m'],
      [1000000, E, '1e3'],
      [1024 * 1024, B, '1048576m'],
    ];
    for (const [v, f, want] of millis) assert.equal(quantityString(newMilliQuantity(v, f)), want);
    const scaled: Array<[number, number, string]> = [
      [1, Scale.Nano, '1n'],
      [1000, Scale.Nano, '1u'],
      [1, Scale.Micro, '1u'],
      [1000, Scale.Micro, '1m'],
      [1, Scale.Milli, '1m'],
      [1000, Scale.Milli, '1'],
      [1, 0, '1'],
      [0, Scale.Nano, '0'],
      [0, 0, '0'],
    ];
    for (const [v, s, want] of scaled) {
      assert.equal(quantityString(newScaledQuantity(v, s)), want);
      assert.equal(scaledValue(parseQuantity(want), s), BigInt(v));
    }
  });
});
