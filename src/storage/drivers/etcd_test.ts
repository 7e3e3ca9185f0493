// The storage conformance suite against a real etcd (Debian's etcd-server, started once for this
// file by src/testing/etcd.ts), plus what only the etcd driver has: endpoint lists, fail-over to
// a live endpoint, and a watch that survives a broken connection.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runConformance } from '../conformance.ts';
import { openStore } from '../registry.ts';
import { StorageErrorCode } from '../types.ts';
import type { Store, WatchEvent } from '../types.ts';
import { openEtcdStore, orderedProgress, parseEtcdEndpoints } from './etcd.ts';
import { startEtcd } from '../../testing/etcd.ts';
import type { TestEtcd } from '../../testing/etcd.ts';

let etcd: TestEtcd | undefined;

before(async () => {
  etcd = await startEtcd({ memoryBacked: true });
});

after(async () => {
  await etcd?.stop();
});

function address(): string {
  if (!etcd) throw new Error('etcd did not start');
  return etcd.endpoint.replace(/^etcd:\/\//, '');
}

runConformance('etcd', async () => ({
  store: await openStore({ endpoint: etcd!.endpoint, compactionWindowMs: 0 }),
  cleanup: async () => {},
}));

describe('etcd driver', () => {
  test('endpoint lists parse into host:port pairs with the default port', () => {
    assert.deepEqual(parseEtcdEndpoints('etcd://h1:2379,h2:2380'), ['h1:2379', 'h2:2380']);
    assert.deepEqual(parseEtcdEndpoints('etcd://h1,[::1]:2381,[::1]'), ['h1:2379', '[::1]:2381', '[::1]:2379']);
    assert.deepEqual(parseEtcdEndpoints('etcd://127.0.0.1:2379/'), ['127.0.0.1:2379']);
    assert.throws(() => parseEtcdEndpoints('etcd://'), /expected etcd:\/\/host:port/);
    assert.throws(() => parseEtcdEndpoints('etcd://h1:port'), /expected host:port/);
  });

  test('progress responses count as ordered only from etcd 3.4.31 and 3.5.13 on', () => {
    for (const v of ['3.4.23', '3.4.30', '3.5.12', '3.3.27', 'garbage']) assert.equal(orderedProgress(v), false, v);
    for (const v of ['3.4.31', '3.5.13', '3.5.21', '3.6.0', '4.0.0']) assert.equal(orderedProgress(v), true, v);
  });

  test('open fails with a clear error when no endpoint answers', async () => {
    const dead = await deadAddress();
    await assert.rejects(openEtcdStore([dead], { callTimeoutMs: 2000, compactionWindowMs: 0 }), (err: Error) => {
      assert.match(err.message, new RegExp(`cannot reach etcd at ${dead.replace(/\./g, '\\.')}`));
      return true;
    });
  });

  test('a dead first endpoint is skipped for a live one', async () => {
    const store = await openEtcdStore([await deadAddress(), address()], { compactionWindowMs: 0 });
    try {
      const r = await store.create('/failover/k', new TextEncoder().encode('v'));
      assert.equal((await store.get('/failover/k')).kv?.modRevision, r.revision);
    } finally {
      await store.close();
    }
  });

  test('a watch resumes after its connection breaks, without gaps or duplicates', async () => {
    const proxy = await startProxy(address());
    const viaProxy = await openEtcdStore([proxy.address], { compactionWindowMs: 0 });
    const direct = await openEtcdStore([address()], { compactionWindowMs: 0 });
    const events: WatchEvent[] = [];
    let failure: Error | undefined;
    let wake: () => void = () => {};
    try {
      const from = await direct.currentRevision();
      const w = viaProxy.watch('/reconnect/', { fromRevision: from }, {
        onEvents(evs) {
          events.push(...evs);
          wake();
        },
        onError(err) {
          failure = err;
          wake();
        },
      });
      const until = (n: number): Promise<void> => waitFor(() => {
        if (failure) throw failure;
        return events.length >= n;
      }, (f) => (wake = f), `${n} events`);
      const revisions: number[] = [];
      for (let i = 0; i < 5; i++) revisions.push((await direct.create(`/reconnect/a${i}`, new Uint8Array([i]))).revision);
      await until(5);
      proxy.breakConnections();
      // Written while the watch is disconnected: it must catch up on these after reconnecting.
      for (let i = 0; i < 5; i++) revisions.push((await direct.create(`/reconnect/b${i}`, new Uint8Array([i]))).revision);
      await until(10);
      for (let i = 0; i < 5; i++) revisions.push((await direct.create(`/reconnect/c${i}`, new Uint8Array([i]))).revision);
      await until(15);
      w.dispose();
      assert.deepEqual(events.map((e) => e.revision), revisions);
      assert.ok(proxy.connections() >= 2, 'the watch reconnected through a new connection');
    } finally {
      await viaProxy.close();
      await direct.close();
      await proxy.close();
    }
  });

  test('a progress answer never overtakes events, also while the watch catches up from history', async () => {
    const store = await openEtcdStore([address()], { compactionWindowMs: 0 });
    const prefix = `/progress/${process.hrtime.bigint()}/`;
    const delivered: number[] = [];
    const answers: Array<{ revision: number; delivered: number[] }> = [];
    let wake: () => void = () => {};
    try {
      const from = await store.currentRevision();
      const written: number[] = [];
      for (let i = 0; i < 30; i++) written.push((await store.create(`${prefix}h${i}`, new Uint8Array(1))).revision);
      // Starts below the current revision: etcd replays history to it out of band first.
      const w = store.watch(prefix, { fromRevision: from }, {
        onEvents(evs) {
          delivered.push(...evs.map((e) => e.revision));
          wake();
        },
        onError(err) {
          throw err;
        },
        onProgress(revision) {
          answers.push({ revision, delivered: [...delivered] });
          wake();
        },
      });
      w.requestProgress();
      await waitFor(() => answers.length >= 1, (f) => (wake = f), 'the first progress answer');
      for (let round = 0; round < 10; round++) {
        written.push(...(await Promise.all(Array.from({ length: 5 }, (_, i) =>
          store.create(`${prefix}r${round}-${i}`, new Uint8Array(1)).then((r) => r.revision)))));
        w.requestProgress();
        await waitFor(() => answers.length >= round + 2, (f) => (wake = f), `progress answer ${round + 2}`);
      }
      w.dispose();
      for (const a of answers) {
        const due = written.filter((r) => r <= a.revision).sort((x, y) => x - y);
        assert.deepEqual(a.delivered.filter((r) => r <= a.revision), due, `events up to ${a.revision} before its progress answer`);
      }
      assert.ok(answers[answers.length - 1]!.revision >= Math.max(...written));
    } finally {
      await store.close();
    }
  });

  test('a value over the etcd server request limit fails with InvalidValue, not Unavailable', async () => {
    const small = await startEtcd({ memoryBacked: true, maxRequestBytes: 1536 * 1024 }); // etcd's default
    const store: Store = await openEtcdStore([small.endpoint.replace(/^etcd:\/\//, '')], { compactionWindowMs: 0 });
    try {
      const err = await store.create('/toolarge/k', new Uint8Array(2 * 1024 * 1024)).then(() => undefined, (e: unknown) => e);
      assert.equal((err as { code?: string }).code, StorageErrorCode.InvalidValue, String(err));
      await store.create('/toolarge/k', new Uint8Array(1024 * 1024));
    } finally {
      await store.close();
      await small.stop();
    }
  });

  test('the harness stops etcd by PID and removes its data dir', async () => {
    const other = await startEtcd({ memoryBacked: true });
    const { existsSync } = await import('node:fs');
    assert.ok(existsSync(other.dataDir));
    await other.stop();
    assert.throws(() => process.kill(other.pid, 0), { code: 'ESRCH' });
    assert.equal(existsSync(other.dataDir), false);
    await other.stop(); // idempotent
  });

  test('history older than the compaction window is compacted in the background', async () => {
    const store = await openEtcdStore([address()], { compactionWindowMs: 300 });
    try {
      const rev = (await store.create(`/window/${process.hrtime.bigint()}`, new Uint8Array(1))).revision;
      const deadline = Date.now() + 10_000;
      while ((await store.compactedRevision()) < rev) {
        assert.ok(Date.now() < deadline, 'the compactor compacted past the write within 10 s');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await store.close();
    }
  });

  test('compactedRevision reports a compaction made by another client', async () => {
    const a = await openEtcdStore([address()], { compactionWindowMs: 0 });
    const b = await openEtcdStore([address()], { compactionWindowMs: 0 });
    try {
      const before = await b.compactedRevision();
      await a.create('/compact-other/k', new Uint8Array(1));
      const rev = await a.currentRevision();
      await a.compact(rev);
      assert.ok(rev > before);
      assert.equal(await b.compactedRevision(), rev);
      const err = await b.get('/compact-other/k', { revision: rev - 1 }).then(() => undefined, (e: unknown) => e);
      assert.equal((err as { code?: string }).code, StorageErrorCode.Compacted);
      assert.equal((err as { compacted?: number }).compacted, rev);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/** A 127.0.0.1 address nothing listens on. */
async function deadAddress(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return `127.0.0.1:${port}`;
}

/** A TCP proxy to `target` whose open connections a test can cut. */
async function startProxy(target: string): Promise<{
  address: string;
  breakConnections(): void;
  connections(): number;
  close(): Promise<void>;
}> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const open = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((client) => {
    count++;
    const upstream = new (client.constructor as typeof Socket)();
    upstream.connect(port, host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        open.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    breakConnections: () => {
      for (const s of [...open]) s.destroy();
    },
    connections: () => count,
    close: async () => {
      for (const s of [...open]) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Resolves once `done()` holds, re-checked whenever `arm`'s callback fires; fails after 10 s. */
function waitFor(done: () => boolean, arm: (wake: () => void) => void, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
    const check = (): void => {
      try {
        if (!done()) return;
        clearTimeout(timer);
        resolve();
      } catch (err) {
        clearTimeout(timer);
        reject(err);
      }
    };
    arm(check);
    check();
  });
}
