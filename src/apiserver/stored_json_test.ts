// Tests of the once-per-revision serialization: splicing resourceVersion into stored JSON must give
// exactly what decoding, setting it and JSON.stringify give.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeObject, metadataClose, withResourceVersion } from './stored_json.ts';

type Obj = Record<string, unknown>;

/** What the cache did before: decode, set metadata.resourceVersion, stringify. */
function reference(stored: string, revision: number): string {
  const obj = JSON.parse(stored) as Obj;
  const m = (obj['metadata'] ??= {}) as Obj;
  m['resourceVersion'] = String(revision);
  return JSON.stringify(obj);
}

function spliced(stored: string, revision: number): string | undefined {
  return withResourceVersion(Buffer.from(stored), revision)?.toString('utf8');
}

/** A random JSON value whose strings exercise quotes, escapes, braces and non-ASCII text. */
function randomValue(rand: () => number, depth: number): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 4 : 7));
  const strings = ['', 'a', '"', '\\', '\\"', '{', '}]', '[{"x":1}]', 'é✓𝄞', 'metadata', '"metadata":{', '\n\t', 'x\\\\'];
  switch (pick) {
    case 0: return strings[Math.floor(rand() * strings.length)];
    case 1: return Math.floor(rand() * 2000) - 1000;
    case 2: return rand() < 0.5;
    case 3: return null;
    case 4: return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default: {
      const o: Obj = {};
      for (let i = Math.floor(rand() * 5); i > 0; i--) o[strings[Math.floor(rand() * strings.length)]! + String(i)] = randomValue(rand, depth + 1);
      return o;
    }
  }
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('withResourceVersion', () => {
  test('appends resourceVersion last in metadata, as decoding and re-encoding would', () => {
    for (const stored of [
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","labels":{"x":"}"}},"spec":{}}',
      '{"metadata":{}}',
      '{"spec":{"template":{"metadata":{"name":"inner"}}},"metadata":{"name":"outer"}}',
      '{"a":"\\"metadata\\":{","b":[1,{"c":"\\\\"}],"metadata":{"n":"\\\\\\""},"z":null}',
      '{"kind":"X","n":-1.5e+30,"t":true,"metadata":{"name":"é✓"}}',
    ]) {
      assert.equal(spliced(stored, 42), reference(stored, 42), stored);
    }
  });

  test('declines what it cannot splice exactly', () => {
    assert.equal(spliced('{"kind":"X"}', 1), undefined);
    assert.equal(spliced('{"metadata":null}', 1), undefined);
    assert.equal(spliced('{ "metadata": {} }', 1), undefined);
    assert.equal(spliced('[]', 1), undefined);
    assert.equal(metadataClose(Buffer.from('')), -1);
  });

  test('matches the reference on random objects', () => {
    const rand = seeded(7);
    for (let i = 0; i < 3000; i++) {
      const obj = randomValue(rand, 0);
      const o: Obj = obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? obj as Obj : { spec: obj };
      const withMeta = rand() < 0.9;
      if (withMeta) o['metadata'] = randomValue(rand, 2) ?? {};
      const stored = JSON.stringify(o);
      const metaIsObject = typeof o['metadata'] === 'object' && o['metadata'] !== null && !Array.isArray(o['metadata']);
      const got = spliced(stored, i);
      if (metaIsObject) assert.equal(got, reference(stored, i), stored);
      else assert.equal(got, undefined, stored);
    }
  });
});

describe('encodeObject', () => {
  test('stores without resourceVersion and serves it where the object has it', () => {
    const cases: Obj[] = [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'n' }, spec: { x: 1 } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', resourceVersion: '7', uid: 'u' }, spec: {} },
      { metadata: { resourceVersion: '7', name: 'a' } },
      { metadata: { name: 'a', resourceVersion: '7' } },
      { metadata: { resourceVersion: '7' } },
      { metadata: {} },
      { kind: 'X', metadata: { name: 'a' }, spec: { resourceVersion: 'inner' } },
      { kind: 'X', metadata: { name: 'é✓', resourceVersion: '7', labels: { '𝄞': 'ü' } }, spec: { s: '"\\' } },
    ];
    for (const obj of cases) {
      const before = JSON.stringify(obj);
      const enc = encodeObject(obj);
      assert.equal(JSON.stringify(obj), before, 'the object is left as it was');
      const copy = structuredClone(obj);
      delete (copy['metadata'] as Obj)['resourceVersion'];
      assert.equal(enc.stored.toString(), JSON.stringify(copy));
      const served = structuredClone(obj);
      (served['metadata'] as Obj)['resourceVersion'] = '99';
      assert.equal(enc.served(99)?.toString(), JSON.stringify(served));
    }
  });

  test('falls back to plain encoding without metadata or when a value looks like its marker', () => {
    const noMeta = encodeObject({ kind: 'X' });
    assert.equal(noMeta.stored.toString(), '{"kind":"X"}');
    assert.equal(noMeta.served(1), undefined);
    const tricky: Obj = { metadata: { name: 'a' }, spec: { resourceVersion: '\u0000tkube:resourceVersion\u0000' } };
    const enc = encodeObject(tricky);
    assert.equal(enc.stored.toString(), JSON.stringify(tricky));
    assert.equal(enc.served(5), undefined);
    assert.deepEqual(tricky['metadata'], { name: 'a' });
  });
});
