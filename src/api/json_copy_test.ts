// copyJson gives what a JSON round trip gives, shares nothing with its input, and keeps
// "__proto__" a member.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyJson } from './json_copy.ts';

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function value(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor(r() * 1000) - 500;
    case 3: return r() * 10;
    case 4: return `s${Math.floor(r() * 100)}`;
    case 5: return [undefined, NaN, Infinity][Math.floor(r() * 3)];
    case 6: return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) o[`k${Math.floor(r() * 6)}`] = value(r, depth + 1);
      return o;
    }
  }
}

function shares(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null) return false;
  if (a === b) return true;
  const bb = b as Record<string, unknown>;
  return Object.keys(a).some((k) => shares((a as Record<string, unknown>)[k], bb[k]));
}

describe('copyJson', () => {
  test('equals a JSON round trip and shares nothing with its input', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const v = { root: value(rng(seed), 0) };
      const c = copyJson(v);
      assert.deepEqual(c, JSON.parse(JSON.stringify(v)), `seed ${seed}`);
      assert.equal(shares(c, v), false, `seed ${seed}`);
    }
  });

  test('"__proto__" stays a member, and the prototype stays Object.prototype', () => {
    const v = JSON.parse('{"a":{"__proto__":{"x":1}}}') as Record<string, Record<string, unknown>>;
    const c = copyJson(v);
    assert.equal(Object.getPrototypeOf(c['a']), Object.prototype);
    assert.deepEqual(Object.keys(c['a']!), ['__proto__']);
    assert.equal(JSON.stringify(c), JSON.stringify(v));
  });
});
