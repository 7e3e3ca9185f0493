// The storage conformance suite: the same node:test cases run against every driver (memory, sqlite,
// etcd), so they all keep the Store contract of types.ts. Backend-agnostic: each test writes under
// its own unique prefix and never assumes absolute revisions, so drivers may share one server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { MAX_VALUE_BYTES } from './keys.ts';
import { ConflictError, StorageError, StorageErrorCode } from './types.ts';
import type { KeyValue, Store, WatchEvent, WatchSink } from './types.ts';

/** A store for one test and how to get rid of it afterwards. */
export interface ConformanceTarget {
  readonly store: Store;
  /** Called after the test has closed the store (or the suite has). */
  cleanup(): Promise<void>;
}

/** Opens a fresh store (or a new client of a shared server) for one test. */
export type OpenTarget = () => Promise<ConformanceTarget>;

/** Longest a test waits for watch events before it fails. */
const WAIT_MS = 10_000;

/** Defines the suite as a describe block named after the driver. */
export function runConformance(name: string, open: OpenTarget): void {
  describe(`storage conformance: ${name}`, () => {
    /** Runs `fn` with a store and a prefix no other test uses, always closing and cleaning up. */
    function withStore(fn: (s: Store, p: string) => Promise<void>): () => Promise<void> {
      return async () => {
        const target = await open();
        const prefix = `/conformance/${randomUUID().slice(0, 8)}/`;
        try {
          await fn(target.store, prefix);
        } finally {
          try {
            await target.store.close();
          } finally {
            await target.cleanup();
          }
        }
      };
    }

    test('create, get, update and delete a key', withStore(async (s, p) => {
      const k = p + 'k';
      const r1 = (await s.create(k, enc('v1'))).revision;
      assertKv((await s.get(k)).kv, { key: k, value: 'v1', createRevision: r1, modRevision: r1 });
      const r2 = (await s.update(k, enc('v2'), r1)).revision;
      assert.ok(r2 > r1, `update revision ${r2} must be above create revision ${r1}`);
      const got = await s.get(k);
      assertKv(got.kv, { key: k, value: 'v2', createRevision: r1, modRevision: r2 });
      assert.ok(got.revision >= r2, `get served at ${got.revision}, before the update at ${r2}`);
      const del = await s.delete(k, r2);
      assert.ok(del.revision > r2, `delete revision ${del.revision} not above ${r2}`);
      assertKv(del.prevKv, { key: k, value: 'v2', createRevision: r1, modRevision: r2 });
      const gone = await s.get(k);
      assert.equal(gone.kv, undefined);
      assert.ok(gone.revision >= del.revision, `get served at ${gone.revision}, before the delete at ${del.revision}`);
      const r4 = (await s.create(k, enc('v3'))).revision;
      assertKv((await s.get(k)).kv, { key: k, value: 'v3', createRevision: r4, modRevision: r4 });
      const del2 = await s.delete(k);
      assert.ok(del2.revision > r4, 'an unconditional delete succeeds');
    }));

    test('values are stored byte for byte: empty, every byte value, 1 MiB', withStore(async (s, p) => {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) & 0xff);
      for (const [name, value] of [['empty', new Uint8Array(0)], ['bytes', all], ['big', big]] as const) {
        await s.create(p + name, value);
        const kv = (await s.get(p + name)).kv;
        assert.ok(kv, `${name} exists`);
        assert.deepEqual(Buffer.from(kv.value), Buffer.from(value), `${name} round-trips`);
      }
    }));

    test('create of an existing key fails with KeyExists', withStore(async (s, p) => {
      const k = p + 'k';
      const r1 = (await s.create(k, enc('a'))).revision;
      await assertCode(s.create(k, enc('b')), StorageErrorCode.KeyExists);
      assertKv((await s.get(k)).kv, { key: k, value: 'a', createRevision: r1, modRevision: r1 });
    }));

    test('update and delete with a stale modRevision fail with Conflict carrying the current value', withStore(async (s, p) => {
      const k = p + 'k';
      const r1 = (await s.create(k, enc('a'))).revision;
      const r2 = (await s.update(k, enc('b'), r1)).revision;
      // Handlers are attached at once: a rejection must never be unhandled while the other waits.
      const attempts = [s.update(k, enc('c'), r1), s.delete(k, r1)].map((p) => p.then(() => undefined, (e: unknown) => e));
      for (const attempt of attempts) {
        const err = await attempt;
        assert.ok(err instanceof ConflictError, `expected ConflictError, got ${String(err)}`);
        assert.equal(err.code, StorageErrorCode.Conflict);
        assertKv(err.current, { key: k, value: 'b', createRevision: r1, modRevision: r2 });
      }
      assertKv((await s.get(k)).kv, { key: k, value: 'b', createRevision: r1, modRevision: r2 });
    }));

    test('update and delete of a missing key fail with NotFound; get returns no value', withStore(async (s, p) => {
      await assertCode(s.update(p + 'missing', enc('x'), 1), StorageErrorCode.NotFound);
      await assertCode(s.delete(p + 'missing'), StorageErrorCode.NotFound);
      await assertCode(s.delete(p + 'missing', 1), StorageErrorCode.NotFound);
      const r = (await s.create(p + 'gone', enc('x'))).revision;
      await s.delete(p + 'gone', r);
      await assertCode(s.update(p + 'gone', enc('y'), r), StorageErrorCode.NotFound);
      const got = await s.get(p + 'missing');
      assert.equal(got.kv, undefined);
      assert.ok(got.revision >= r, `get served at ${got.revision}, before ${r}`);
    }));

    test('revisions strictly increase across keys and operations', withStore(async (s, p) => {
      let last = await s.currentRevision();
      const mods = new Map<string, number>();
      for (let i = 0; i < 12; i++) {
        const k = `${p}k${i % 4}`;
        const mod = mods.get(k);
        const r = mod === undefined ? (await s.create(k, enc(`${i}`))).revision
          : i % 3 === 0 ? (await s.delete(k, mod)).revision
            : (await s.update(k, enc(`${i}`), mod)).revision;
        if (mod !== undefined && i % 3 === 0) mods.delete(k);
        else mods.set(k, r);
        assert.ok(r > last, `write ${i} got revision ${r}, not above ${last}`);
        last = r;
      }
      assert.ok((await s.currentRevision()) >= last, 'currentRevision is at least the last write');
    }));

    test('get at an older revision returns the value it had then', withStore(async (s, p) => {
      const k = p + 'k';
      const r0 = (await s.create(p + 'before', enc('x'))).revision;
      const r1 = (await s.create(k, enc('v1'))).revision;
      const r2 = (await s.update(k, enc('v2'), r1)).revision;
      const r3 = (await s.delete(k, r2)).revision;
      const r4 = (await s.create(k, enc('v4'))).revision;
      assertKv((await s.get(k, { revision: r1 })).kv, { key: k, value: 'v1', createRevision: r1, modRevision: r1 });
      assertKv((await s.get(k, { revision: r2 })).kv, { key: k, value: 'v2', createRevision: r1, modRevision: r2 });
      const atDelete = await s.get(k, { revision: r3 });
      assert.equal(atDelete.kv, undefined);
      assert.equal(atDelete.revision, r3);
      assertKv((await s.get(k, { revision: r4 })).kv, { key: k, value: 'v4', createRevision: r4, modRevision: r4 });
      assert.equal((await s.get(k, { revision: r0 })).kv, undefined, 'the key did not exist before its create');
      const current = await s.currentRevision();
      await assertCode(s.get(k, { revision: current + 1000 }), StorageErrorCode.FutureRevision);
    }));

    test('list returns only keys under the prefix, in byte order', withStore(async (s, p) => {
      const inside = ['a/B', 'a/a', 'a/10', 'a/9', 'a/\uFFFD', 'a/\u{1F600}', 'a/é', 'a/x/y', 'a/-'].map((k) => p + k);
      const outside = ['a', 'ab', 'a0', 'a.b', 'b/a', 'A/a'].map((k) => p + k);
      for (const k of [...outside, ...inside]) await s.create(k, enc(k));
      const res = await s.list(p + 'a/');
      const expected = [...inside].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      assert.deepEqual(res.kvs.map((kv) => kv.key), expected);
      for (const kv of res.kvs) assert.equal(dec(kv.value), kv.key);
      assert.equal(res.continue, undefined);
      assert.deepEqual((await s.list(p + 'a/x/')).kvs.map((kv) => kv.key), [p + 'a/x/y']);
      assert.deepEqual((await s.list(p + 'none/')).kvs, []);
      assert.equal((await s.list(p)).kvs.length, inside.length + outside.length);
    }));

    test('list at an older revision returns the keys as they were then', withStore(async (s, p) => {
      const ra = (await s.create(p + 'a', enc('a1'))).revision;
      const rb = (await s.create(p + 'b', enc('b1'))).revision;
      const rdel = (await s.delete(p + 'a', ra)).revision;
      const rb2 = (await s.update(p + 'b', enc('b2'), rb)).revision;
      const rc = (await s.create(p + 'c', enc('c1'))).revision;
      const at = async (revision: number): Promise<string[]> => {
        const res = await s.list(p, { revision });
        assert.equal(res.revision, revision);
        return res.kvs.map((kv) => `${kv.key.slice(p.length)}=${dec(kv.value)}@${kv.modRevision}`);
      };
      assert.deepEqual(await at(rb), [`a=a1@${ra}`, `b=b1@${rb}`]);
      assert.deepEqual(await at(rdel), [`b=b1@${rb}`]);
      assert.deepEqual(await at(rb2), [`b=b2@${rb2}`]);
      assert.deepEqual(await at(rc), [`b=b2@${rb2}`, `c=c1@${rc}`]);
      const latest = await s.list(p);
      assert.ok(latest.revision >= rc, `list served at ${latest.revision}, before ${rc}`);
      assert.deepEqual(latest.kvs.map((kv) => kv.key), [p + 'b', p + 'c']);
      await assertCode(s.list(p, { revision: (await s.currentRevision()) + 1000 }), StorageErrorCode.FutureRevision);
    }));

    test('a paginated list keeps its snapshot across concurrent writes', withStore(async (s, p) => {
      const mods = new Map<string, number>();
      for (let i = 0; i < 10; i++) mods.set(`k0${i}`, (await s.create(`${p}k0${i}`, enc(`v${i}`))).revision);
      const page1 = await s.list(p, { limit: 3 });
      assert.deepEqual(names(page1.kvs, p), ['k00', 'k01', 'k02']);
      // remaining is optional ("when known"); when a driver reports it, it must be exact.
      if (page1.remaining !== undefined) assert.equal(page1.remaining, 7);
      assert.ok(page1.continue, 'a first page of 3 out of 10 has a continue token');
      // Writes between pages, before, inside and after the rest of the range.
      await s.update(`${p}k05`, enc('changed'), mods.get('k05')!);
      await s.delete(`${p}k07`, mods.get('k07')!);
      await s.delete(`${p}k00`, mods.get('k00')!);
      await s.create(`${p}k035`, enc('new'));
      await s.create(`${p}k10`, enc('new'));
      const seen = [...page1.kvs];
      let page = page1;
      let pages = 1;
      while (page.continue) {
        page = await s.list(p, { limit: 3, continue: page.continue });
        assert.equal(page.revision, page1.revision, 'every page is served at the first page\'s revision');
        if (page.continue && page.remaining !== undefined) assert.equal(page.remaining, 10 - seen.length - page.kvs.length);
        seen.push(...page.kvs);
        pages++;
        assert.ok(pages <= 4, 'ten keys in pages of three take four pages');
      }
      assert.deepEqual(names(seen, p), ['k00', 'k01', 'k02', 'k03', 'k04', 'k05', 'k06', 'k07', 'k08', 'k09']);
      assert.deepEqual(seen.map((kv) => dec(kv.value)), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9']);
      assert.deepEqual(names((await s.list(p)).kvs, p), ['k01', 'k02', 'k03', 'k035', 'k04', 'k05', 'k06', 'k08', 'k09', 'k10']);
      const exact = await s.list(p, { limit: 10 });
      assert.equal(exact.kvs.length, 10);
      assert.equal(exact.continue, undefined, 'a page that ends exactly at the last key has no continue token');
    }));

    test('count counts the live keys under a prefix only', withStore(async (s, p) => {
      assert.equal(await s.count(p), 0);
      const revs: number[] = [];
      for (const k of ['a/1', 'a/2', 'a/3', 'ab']) revs.push((await s.create(p + k, enc('x'))).revision);
      assert.equal(await s.count(p + 'a/'), 3);
      assert.equal(await s.count(p), 4);
      await s.delete(p + 'a/2', revs[1]);
      await s.update(p + 'a/1', enc('y'), revs[0]!);
      assert.equal(await s.count(p + 'a/'), 2);
    }));

    test('concurrent compare-and-swap increments are never lost', withStore(async (s, p) => {
      const k = p + 'counter';
      await s.create(k, enc('0'));
      let conflicts = 0;
      async function increment(): Promise<void> {
        let kv = (await s.get(k)).kv!;
        for (;;) {
          try {
            await s.update(k, enc(String(Number(dec(kv.value)) + 1)), kv.modRevision);
            return;
          } catch (err) {
            if (!(err instanceof ConflictError)) throw err;
            conflicts++;
            kv = err.current;
          }
        }
      }
      await Promise.all(Array.from({ length: 20 }, () => increment()));
      assert.equal(dec((await s.get(k)).kv!.value), '20');
      assert.ok(conflicts > 0, 'twenty increments started together must collide');
    }));

    test('watch delivers every event of concurrent writers once, in revision order', withStore(async (s, p) => {
      const c = new Collector();
      const w = s.watch(p, { fromRevision: await s.currentRevision() }, c);
      try {
        const revisions = (await Promise.all(Array.from({ length: 5 }, (_, i) => churn(s, `${p}w${i}/`, 8)))).flat();
        revisions.sort((a, b) => a - b);
        await c.until(() => c.events.length >= revisions.length, `${revisions.length} events`);
        assertIncreasing(c.events);
        assert.deepEqual(c.events.map((e) => e.revision), revisions);
        for (const e of c.events) assert.ok(e.kv.key.startsWith(p), `event for ${e.kv.key} outside ${p}`);
      } finally {
        w.dispose();
      }
    }));

    test('watch resumes after a reconnect without gaps or duplicates', withStore(async (s, p) => {
      const from = await s.currentRevision();
      const first = new Collector();
      const w1 = s.watch(p, { fromRevision: from }, first);
      const writing = Promise.all(Array.from({ length: 4 }, (_, i) => churn(s, `${p}w${i}/`, 10)));
      await first.until(() => first.events.length >= 10, '10 events');
      w1.dispose();
      const before = [...first.events];
      const resume = new Collector();
      const w2 = s.watch(p, { fromRevision: before[before.length - 1]!.revision }, resume);
      try {
        const revisions = (await writing).flat().sort((a, b) => a - b);
        await resume.until(() => before.length + resume.events.length >= revisions.length, `${revisions.length} events in all`);
        const all = [...before, ...resume.events];
        assertIncreasing(all);
        assert.deepEqual(all.map((e) => e.revision), revisions);
      } finally {
        w2.dispose();
      }
    }));

    test('watch from a past revision replays history, then follows live writes', withStore(async (s, p) => {
      const from = await s.currentRevision();
      const past = await churn(s, `${p}x/`, 5);
      const c = new Collector();
      const w = s.watch(p, { fromRevision: from }, c);
      try {
        await c.until(() => c.events.length >= past.length, 'replayed events');
        const live = await churn(s, `${p}y/`, 3);
        await c.until(() => c.events.length >= past.length + live.length, 'live events');
        assert.deepEqual(c.events.map((e) => e.revision), [...past, ...live]);
        // Starting at the newest revision replays nothing.
        const tail = new Collector();
        const w2 = s.watch(p, { fromRevision: live[live.length - 1]! }, tail);
        const r = (await s.create(`${p}z`, enc('z'))).revision;
        await tail.until(() => tail.events.length >= 1, 'one live event');
        w2.dispose();
        assert.deepEqual(tail.events.map((e) => e.revision), [r]);
      } finally {
        w.dispose();
      }
    }));

    test('watch events carry the previous value; DELETED carries the last value', withStore(async (s, p) => {
      const k = p + 'k';
      const from = await s.currentRevision();
      const c = new Collector();
      const w = s.watch(p, { fromRevision: from }, c);
      try {
        const r1 = (await s.create(k, enc('v1'))).revision;
        const r2 = (await s.update(k, enc('v2'), r1)).revision;
        const r3 = (await s.delete(k, r2)).revision;
        await c.until(() => c.events.length >= 3, 'three events');
        const [added, modified, deleted] = c.events;
        assert.equal(added!.type, 'ADDED');
        assert.equal(added!.revision, r1);
        assertKv(added!.kv, { key: k, value: 'v1', createRevision: r1, modRevision: r1 });
        assert.equal(added!.prevKv, undefined);
        assert.equal(modified!.type, 'MODIFIED');
        assertKv(modified!.kv, { key: k, value: 'v2', createRevision: r1, modRevision: r2 });
        assertKv(modified!.prevKv, { key: k, value: 'v1', createRevision: r1, modRevision: r1 });
        assert.equal(deleted!.type, 'DELETED');
        assert.equal(deleted!.revision, r3);
        assertKv(deleted!.kv, { key: k, value: 'v2', createRevision: r1, modRevision: r3 });
        assertKv(deleted!.prevKv, { key: k, value: 'v2', createRevision: r1, modRevision: r2 });
        // The same history replayed from the past carries the same previous values.
        const replay = new Collector();
        const w2 = s.watch(p, { fromRevision: from }, replay);
        await replay.until(() => replay.events.length >= 3, 'three replayed events');
        w2.dispose();
        assert.deepEqual(replay.events.map(plain), c.events.map(plain));
      } finally {
        w.dispose();
      }
    }));

    test('an exact watch sees only its own key', withStore(async (s, p) => {
      const k = p + 'a';
      const c = new Collector();
      const w = s.watch(k, { fromRevision: await s.currentRevision(), exact: true }, c);
      try {
        await s.create(p + 'ab', enc('x'));
        await s.create(p + 'a0', enc('x'));
        await s.create(p + 'a/b', enc('x'));
        const r = (await s.create(k, enc('mine'))).revision;
        await s.create(p + 'aa', enc('x'));
        const r2 = (await s.delete(k, r)).revision;
        await c.until(() => c.events.length >= 2, 'two events');
        assert.deepEqual(c.events.map((e) => [e.type, e.kv.key, e.revision]), [['ADDED', k, r], ['DELETED', k, r2]]);
      } finally {
        w.dispose();
      }
    }));

    test('a progress request is answered after every event up to the current revision', withStore(async (s, p) => {
      const c = new Collector();
      const w = s.watch(p + 'watched/', { fromRevision: await s.currentRevision() }, c);
      try {
        const r1 = (await s.create(p + 'watched/a', enc('x'))).revision;
        const r2 = (await s.create(p + 'other/b', enc('x'))).revision;
        w.requestProgress();
        await c.until(() => c.progress.length >= 1, 'a progress notification');
        const first = c.progress[0]!;
        assert.ok(first.revision >= r2, `progress at ${first.revision}, before the last write at ${r2}`);
        assert.equal(first.events, 1, 'the event at the first write was delivered before the progress notification');
        assert.deepEqual(c.events.map((e) => e.revision), [r1]);
        // A quiet watch still learns that the store has moved on.
        const r3 = (await s.create(p + 'other/c', enc('x'))).revision;
        w.requestProgress();
        await c.until(() => c.progress.length >= 2, 'a second progress notification');
        assert.ok(c.progress[1]!.revision >= r3, `progress at ${c.progress[1]!.revision}, before ${r3}`);
        assert.equal(c.events.length, 1);
      } finally {
        w.dispose();
      }
    }));

    test('after compaction, older revisions fail with Compacted for get, list and watch', withStore(async (s, p) => {
      const a = p + 'a';
      const b = p + 'b';
      const r1 = (await s.create(a, enc('a1'))).revision;
      const r2 = (await s.update(a, enc('a2'), r1)).revision;
      const r3 = (await s.create(b, enc('b1'))).revision;
      const page = await s.list(p, { revision: r3, limit: 1 });
      assert.ok(page.continue, 'a page of 1 out of 2 keys has a continue token');
      const r4 = (await s.delete(b, r3)).revision;
      const r5 = (await s.update(a, enc('a3'), r2)).revision;
      const r6 = (await s.create(p + 'c', enc('c1'))).revision;
      await s.compact(r5);
      assert.ok((await s.compactedRevision()) >= r5, 'compactedRevision reflects the compaction');
      await assertCode(s.get(a, { revision: r1 }), StorageErrorCode.Compacted);
      await assertCode(s.get(a, { revision: r4 }), StorageErrorCode.Compacted);
      await assertCode(s.list(p, { revision: r2 }), StorageErrorCode.Compacted);
      await assertCode(s.list(p, { continue: page.continue }), StorageErrorCode.Compacted);
      const old = new Collector();
      s.watch(p, { fromRevision: r2 }, old);
      await old.untilError('a Compacted error');
      assert.equal(old.error!.code, StorageErrorCode.Compacted);
      assert.deepEqual(old.events, []);
      // The compacted revision itself is still readable, and so is everything after it.
      assertKv((await s.get(a, { revision: r5 })).kv, { key: a, value: 'a3', createRevision: r1, modRevision: r5 });
      assert.equal((await s.get(b, { revision: r5 })).kv, undefined);
      assert.deepEqual(names((await s.list(p, { revision: r5 })).kvs, p), ['a']);
      assert.deepEqual(names((await s.list(p)).kvs, p), ['a', 'c']);
      assert.equal(await s.count(p), 2);
      const c = new Collector();
      const w = s.watch(p, { fromRevision: r5 }, c);
      try {
        const r7 = (await s.update(a, enc('a4'), r5)).revision;
        await c.until(() => c.events.length >= 2, 'two events');
        assert.deepEqual(c.events.map((e) => [e.type, e.revision]), [['ADDED', r6], ['MODIFIED', r7]]);
        assertKv(c.events[1]!.prevKv, { key: a, value: 'a3', createRevision: r1, modRevision: r5 });
      } finally {
        w.dispose();
      }
      await s.compact(r5); // compacting to the same revision again is harmless
    }));

    test('invalid keys and values are rejected', withStore(async (s, p) => {
      const badKeys = ['', 'relative', p + 'trailing/', p + 'a//b', `${p}nul\u0000`, `${p}new\nline`, p + 'x'.repeat(5000)];
      for (const k of badKeys) {
        await assertCode(s.create(k, enc('x')), StorageErrorCode.InvalidKey, JSON.stringify(k));
        await assertCode(s.update(k, enc('x'), 1), StorageErrorCode.InvalidKey, JSON.stringify(k));
        await assertCode(s.delete(k), StorageErrorCode.InvalidKey, JSON.stringify(k));
        await assertCode(s.get(k), StorageErrorCode.InvalidKey, JSON.stringify(k));
      }
      for (const prefix of [p.slice(0, -1), 'relative/', '', p + '/']) {
        await assertCode(s.list(prefix), StorageErrorCode.InvalidKey, JSON.stringify(prefix));
        await assertCode(s.count(prefix), StorageErrorCode.InvalidKey, JSON.stringify(prefix));
      }
      const c = new Collector();
      s.watch(p.slice(0, -1), { fromRevision: 0 }, c);
      await c.untilError('an InvalidKey error');
      assert.equal(c.error!.code, StorageErrorCode.InvalidKey);
      await assertCode(s.create(p + 'v', 'text' as unknown as Uint8Array), StorageErrorCode.InvalidValue);
      const tooBig = new Uint8Array(MAX_VALUE_BYTES + 1);
      await assertCode(s.create(p + 'v', tooBig), StorageErrorCode.InvalidValue);
      const r = (await s.create(p + 'v', enc('ok'))).revision;
      await assertCode(s.update(p + 'v', tooBig, r), StorageErrorCode.InvalidValue);
      assertKv((await s.get(p + 'v')).kv, { key: p + 'v', value: 'ok', createRevision: r, modRevision: r });
      assert.equal(await s.count(p), 1, 'nothing invalid was stored');
    }));

    test('an invalid continue token is rejected with InvalidContinue', withStore(async (s, p) => {
      for (const k of ['a/1', 'a/2', 'b/1', 'b/2']) await s.create(p + k, enc('x'));
      const other = await s.list(p + 'b/', { limit: 1 });
      assert.ok(other.continue, 'a page of 1 out of 2 keys has a continue token');
      const forged = Buffer.from(JSON.stringify({ hello: 'world' })).toString('base64url');
      for (const token of ['garbage!', forged, other.continue]) {
        await assertCode(s.list(p + 'a/', { limit: 1, continue: token }), StorageErrorCode.InvalidContinue, token);
      }
    }));

    test('close acknowledges pending writes, ends watches, and fails later calls with Closed', withStore(async (s, p) => {
      const c = new Collector();
      s.watch(p, { fromRevision: await s.currentRevision() }, c);
      const writes = Array.from({ length: 5 }, (_, i) => s.create(`${p}k${i}`, enc('x')));
      await s.close();
      const settled = await Promise.allSettled(writes);
      assert.deepEqual(settled.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      await c.untilError('the watch to end');
      assert.equal(c.error!.code, StorageErrorCode.Closed);
      await assertCode(s.create(p + 'late', enc('x')), StorageErrorCode.Closed);
      await assertCode(s.get(p + 'k0'), StorageErrorCode.Closed);
      await assertCode(s.list(p), StorageErrorCode.Closed);
      const late = new Collector();
      s.watch(p, { fromRevision: 0 }, late);
      await late.untilError('a Closed error');
      assert.equal(late.error!.code, StorageErrorCode.Closed);
      await s.close(); // closing twice is harmless
    }));
  });
}

/** Collects a watch's deliveries and lets a test wait, boundedly, for a condition on them. */
class Collector implements WatchSink {
  readonly events: WatchEvent[] = [];
  /** Progress notifications, with how many events had arrived before each. */
  readonly progress: Array<{ readonly revision: number; readonly events: number }> = [];
  error: StorageError | undefined;
  #waiters: Array<() => boolean> = [];

  onEvents(events: readonly WatchEvent[]): void {
    this.events.push(...events);
    this.#wake();
  }

  onError(err: StorageError): void {
    this.error = err;
    this.#wake();
  }

  onProgress(revision: number): void {
    this.progress.push({ revision, events: this.events.length });
    this.#wake();
  }

  /** Resolves when `done()` holds; rejects if the watch fails first or after WAIT_MS. */
  until(done: () => boolean, what: string): Promise<void> {
    return this.#wait(done, what, true);
  }

  /** Resolves when the watch has reported an error; rejects after WAIT_MS. */
  untilError(what: string): Promise<StorageError> {
    return this.#wait(() => this.error !== undefined, what, false).then(() => this.error!);
  }

  #wait(done: () => boolean, what: string, errorFails: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const settle = (): boolean => {
        if (done()) resolve();
        else if (errorFails && this.error !== undefined) reject(new Error(`watch failed while waiting for ${what}: ${this.error.message}`));
        else return false;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== settle);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== settle);
        reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}: got ${this.events.length} events${this.error ? `, error ${this.error.message}` : ''}`));
      }, WAIT_MS);
      if (!settle()) this.#waiters.push(settle);
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** Writes under `prefix`: for each of n keys a create, an update and, for every other key, a delete; returns the revisions. */
async function churn(s: Store, prefix: string, n: number): Promise<number[]> {
  const revisions: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = `${prefix}k${i}`;
    const r1 = (await s.create(k, enc(`c${i}`))).revision;
    const r2 = (await s.update(k, enc(`u${i}`), r1)).revision;
    revisions.push(r1, r2);
    if (i % 2 === 0) revisions.push((await s.delete(k, r2)).revision);
  }
  return revisions;
}

function assertIncreasing(events: readonly WatchEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i]!.revision > events[i - 1]!.revision, `event ${i} has revision ${events[i]!.revision}, not above ${events[i - 1]!.revision}`);
  }
}

async function assertCode(p: Promise<unknown>, code: StorageErrorCode, what = ''): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof StorageError, `${what}: expected a StorageError ${code}, got ${err === undefined ? 'success' : String(err)}`);
  assert.equal(err.code, code, `${what}: ${err.message}`);
}

function assertKv(kv: KeyValue | undefined, want: { key: string; value: string; createRevision: number; modRevision: number }): void {
  assert.ok(kv, `expected a value for ${want.key}`);
  assert.deepEqual({ key: kv.key, value: dec(kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision }, want);
}

function names(kvs: readonly KeyValue[], prefix: string): string[] {
  return kvs.map((kv) => kv.key.slice(prefix.length));
}

function plain(e: WatchEvent): unknown {
  const kv = (x: KeyValue | undefined): unknown => x && { ...x, value: dec(x.value) };
  return { type: e.type, revision: e.revision, kv: kv(e.kv), prevKv: kv(e.prevKv) };
}

function enc(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function dec(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}
