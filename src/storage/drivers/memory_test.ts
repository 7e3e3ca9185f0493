// Runs the storage conformance suite against the memory driver, plus what is particular to it:
// opening through the registry and compaction dropping history.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runConformance } from '../conformance.ts';
import { openStore } from '../registry.ts';
import { MemoryStore } from './memory.ts';

runConformance('memory', async () => ({ store: new MemoryStore({ compactionWindowMs: 0 }), cleanup: async () => undefined }));

describe('memory driver', () => {
  test('opens through the registry as memory://, each open a fresh store', async () => {
    const a = await openStore({ endpoint: 'memory://' });
    const b = await openStore({ endpoint: 'memory://' });
    try {
      assert.equal(a.driver, 'memory');
      await a.create('/k', new Uint8Array([1]));
      assert.equal((await b.get('/k')).kv, undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('compaction keeps the state at the compacted revision and drops the rest', async () => {
    const s = new MemoryStore({ compactionWindowMs: 0 });
    try {
      const r1 = (await s.create('/a', new Uint8Array([1]))).revision;
      const r2 = (await s.update('/a', new Uint8Array([2]), r1)).revision;
      const r3 = (await s.create('/b', new Uint8Array([3]))).revision;
      await s.delete('/b', r3);
      const r5 = (await s.create('/c', new Uint8Array([5]))).revision;
      await s.compact(r5);
      assert.equal(await s.compactedRevision(), r5);
      assert.deepEqual((await s.list('/')).kvs.map((kv) => [kv.key, kv.modRevision]), [['/a', r2], ['/c', r5]]);
      assert.deepEqual((await s.list('/', { revision: r5 })).kvs.map((kv) => kv.key), ['/a', '/c']);
      await assert.rejects(s.compact(r5 + 1), { code: 'FutureRevision' });
    } finally {
      await s.close();
    }
  });
});
