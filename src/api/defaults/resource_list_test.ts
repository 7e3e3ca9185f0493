// Tests of ResourceList rounding: milli precision, upstream's serialized text, bad values kept.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { roundResourceList } from './resource_list.ts';

describe('roundResourceList', () => {
  test('values finer than a milli round up, and read back as upstream prints them', () => {
    const list: Record<string, unknown> = { a: '0.0001', b: '1.0001', c: '5n', d: '0.5', e: '1024Mi', f: '100m', g: 2, h: ' 1Gi ' };
    roundResourceList(list);
    assert.deepEqual(list, { a: '1m', b: '1001m', c: '1m', d: '500m', e: '1Gi', f: '100m', g: '2', h: '1Gi' });
  });

  test('values that are not quantities are left for validation', () => {
    const list: Record<string, unknown> = { cpu: 'lots', memory: true, storage: '1Gi' };
    roundResourceList(list);
    assert.deepEqual(list, { cpu: 'lots', memory: true, storage: '1Gi' });
    assert.doesNotThrow(() => roundResourceList('x'));
  });
});
