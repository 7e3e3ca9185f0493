// Tests of the quantity arithmetic defaulting needs: parsing, comparison, milli round-up and
// Go's canonical printing.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addQuantities, compareQuantities, formatQuantity, parseQuantity, roundResourceList, roundUpToMilli } from './quantity.ts';

function canonical(text: string): string {
  const q = parseQuantity(text);
  assert.ok(q, text);
  return formatQuantity(roundUpToMilli(q));
}

describe('quantity', () => {
  test('values are printed in the canonical form Go prints them in', () => {
    const table: Array<[string, string]> = [
      ['0.5', '500m'], ['1000m', '1'], ['1000', '1k'], ['100m', '100m'], ['2', '2'],
      ['1024Mi', '1Gi'], ['1536Mi', '1536Mi'], ['2048Ki', '2Mi'], ['1.5Gi', '1536Mi'], ['0.5Ki', '512'],
      ['512', '512'], ['128974848', '128974848'], ['129M', '129M'], ['129e6', '129e6'], ['1.2e-2', '12e-3'],
      ['0', '0'], ['-1', '-1'], ['+5', '5'], ['.5', '500m'],
    ];
    for (const [input, want] of table) assert.equal(canonical(input), want, input);
  });

  test('values finer than a milli are rounded up to one', () => {
    for (const [input, want] of [['0.0001', '1m'], ['1.0001', '1001m'], ['5n', '1m'], ['100u', '1m'], ['1999.9999', '2k']] as const) {
      assert.equal(canonical(input), want, input);
    }
  });

  test('comparison is exact across suffixes', () => {
    const q = (s: string) => parseQuantity(s)!;
    assert.equal(compareQuantities(q('1'), q('1000m')), 0);
    assert.equal(compareQuantities(q('1Gi'), q('1G')), 1);
    assert.equal(compareQuantities(q('100m'), q('0.2')), -1);
    assert.equal(compareQuantities(addQuantities(q('250m'), q('0.75')), q('1')), 0);
  });

  test('text that is not a quantity is rejected and left in a list as it is', () => {
    for (const bad of ['', 'abc', '1x', '1.2.3', '--1', 'Ki']) assert.equal(parseQuantity(bad), undefined, bad);
    const list = { cpu: 'lots', memory: '0.5Gi' };
    roundResourceList(list);
    assert.deepEqual(list, { cpu: 'lots', memory: '512Mi' });
  });
});
