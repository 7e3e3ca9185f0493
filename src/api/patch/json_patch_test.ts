// RFC 6902 and RFC 7386 as the API server uses them: copies, never mutation; failures as PatchError.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPatch, mergePatch, PatchError } from './json_patch.ts';

describe('jsonPatch', () => {
  test('applies add, replace, remove, move, copy and test without touching the input', () => {
    const doc = { a: { b: [1, 2] }, c: 'x' };
    const out = jsonPatch(doc, [
      { op: 'add', path: '/a/b/-', value: 3 },
      { op: 'replace', path: '/c', value: 'y' },
      { op: 'copy', from: '/c', path: '/d' },
      { op: 'move', from: '/d', path: '/e' },
      { op: 'test', path: '/e', value: 'y' },
      { op: 'remove', path: '/a/b/0' },
    ]);
    assert.deepEqual(out, { a: { b: [2, 3] }, c: 'y', e: 'y' });
    assert.deepEqual(doc, { a: { b: [1, 2] }, c: 'x' });
  });

  test('a failed test, a missing path or a bad operation is a PatchError', () => {
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), (e: unknown) => e instanceof PatchError && /test failed/.test((e as Error).message));
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/nope' }]), PatchError);
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'frobnicate', path: '/a' }]), PatchError);
    assert.throws(() => jsonPatch({ a: 1 }, ['not an op']), PatchError);
  });
});

describe('mergePatch', () => {
  test('merges objects, null deletes, arrays replace', () => {
    const target = { a: 1, b: { c: 2, d: 3 }, e: [1, 2] };
    assert.deepEqual(mergePatch(target, { a: null, b: { c: 9 }, e: [3] }), { b: { c: 9, d: 3 }, e: [3] });
    assert.deepEqual(target, { a: 1, b: { c: 2, d: 3 }, e: [1, 2] });
  });

  test('values taken from the patch are copies, "__proto__" members stay members', () => {
    const patch = JSON.parse('{"e":[{"x":1}],"f":{"g":[2]},"h":{"__proto__":{"polluted":true}}}') as Record<string, unknown>;
    const out = mergePatch({}, patch) as Record<string, Record<string, unknown>>;
    assert.deepEqual(out, patch);
    assert.notEqual(out['e'], patch['e']);
    assert.notEqual((out['f']!['g']), (patch['f'] as Record<string, unknown>)['g']);
    assert.equal(Object.getPrototypeOf(out['h']), Object.prototype);
    assert.ok(Object.hasOwn(out['h']!, '__proto__'));
  });
});
