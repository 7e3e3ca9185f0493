// Tests of mergePatchDiff: applying the diff as a JSON merge patch gives the target back.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mergePatchDiff } from './merge_diff.ts';

function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

describe('mergePatchDiff', () => {
  test('changed, added and removed fields; lists whole; equal values give undefined', () => {
    const from = { phase: 'Pending', qosClass: 'BestEffort', gone: 1, nested: { a: 1, b: { c: 2 } }, list: [{ type: 'A' }] };
    const to = { phase: 'Running', qosClass: 'BestEffort', nested: { a: 1, b: { c: 3 } }, list: [{ type: 'A' }, { type: 'B' }], added: { x: 'y' } };
    const d = mergePatchDiff(from, to)!;
    assert.deepEqual(d, { phase: 'Running', gone: null, nested: { b: { c: 3 } }, list: [{ type: 'A' }, { type: 'B' }], added: { x: 'y' } });
    assert.deepEqual(applyMergePatch(from, d), to);
    assert.equal(mergePatchDiff(to, structuredClone(to)), undefined);
  });
});
