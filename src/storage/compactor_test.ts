// Tests of the periodic compactor with a fake clock (tick() driven by the test) and, once, with
// its own timer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Compactor, DEFAULT_COMPACTION_WINDOW_MS, startCompactor } from './compactor.ts';
import type { Compactable } from './compactor.ts';
import { MemoryStore } from './drivers/memory.ts';

const v = new Uint8Array([1]);

test('compacts to the newest revision sampled at least a window ago', async () => {
  const store = new MemoryStore({ compactionWindowMs: 0 });
  let now = 1_000_000;
  const c = new Compactor(store, { windowMs: 60_000, now: () => now, autoStart: false });
  try {
    const r1 = (await store.create('/a', v)).revision;
    await c.tick(); // samples r1 at t0
    const r2 = (await store.create('/b', v)).revision;
    now += 30_000;
    await c.tick(); // samples r2 at t0+30s
    await store.create('/c', v);
    now += 29_999;
    await c.tick();
    assert.equal(await store.compactedRevision(), 0, 'nothing has left the window yet');
    now += 1;
    await c.tick();
    assert.equal(await store.compactedRevision(), r1, 'the sample taken a full window ago');
    now += 60_000;
    await c.tick();
    assert.ok((await store.compactedRevision()) > r2, 'later samples compact further');
  } finally {
    await c.dispose();
    await store.close();
  }
});

test('does not compact again to a revision already compacted, and never overlaps itself', async () => {
  let compactions = 0;
  let release: () => void = () => undefined;
  let compacted = 0;
  const target: Compactable = {
    currentRevision: async () => 7,
    compactedRevision: async () => compacted,
    compact: (rev) => {
      compactions++;
      return new Promise<void>((resolve) => {
        release = () => {
          compacted = rev;
          resolve();
        };
      });
    },
  };
  let now = 0;
  const c = new Compactor(target, { windowMs: 10, now: () => now, autoStart: false });
  await c.tick();
  now = 10;
  const first = c.tick();
  const second = c.tick();
  assert.equal(first, second, 'a tick while one is running joins it');
  await Promise.resolve();
  while (compactions === 0) await new Promise<void>((r) => setImmediate(r));
  release();
  await first;
  now = 20;
  await c.tick();
  now = 30;
  await c.tick();
  assert.equal(compactions, 1, 'revision 7 was compacted once');
  await c.dispose();
  await c.tick(); // harmless after dispose
});

test('rejects a non-positive window and interval, naming them', () => {
  const store = new MemoryStore({ compactionWindowMs: 0 });
  assert.throws(() => new Compactor(store, { windowMs: 0 }), /windowMs must be a positive number, got 0/);
  assert.throws(() => new Compactor(store, { intervalMs: -1 }), /intervalMs must be a positive number, got -1/);
  void store.close();
});

test('startCompactor: 0 disables compaction; its own timer compacts with the default clock', async () => {
  const store = new MemoryStore({ compactionWindowMs: 0 });
  assert.equal(startCompactor(store, 0), undefined);
  assert.equal(DEFAULT_COMPACTION_WINDOW_MS, 300_000);
  const r = (await store.create('/a', v)).revision;
  const c = new Compactor(store, { windowMs: 20, intervalMs: 5 });
  try {
    const deadline = Date.now() + 5000;
    while ((await store.compactedRevision()) < r) {
      assert.ok(Date.now() < deadline, 'the timer-driven compactor compacted within 5 s');
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await c.dispose();
    await store.close();
  }
});
