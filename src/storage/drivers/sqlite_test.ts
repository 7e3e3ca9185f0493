// Runs the storage conformance suite against the SQLite driver, plus what is particular to it:
// durability across reopen, group commit, compaction deleting rows, and refusing foreign files.
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { runConformance } from '../conformance.ts';
import { openStore } from '../registry.ts';
import { StorageErrorCode } from '../types.ts';
import { openSqliteStore } from './sqlite.ts';

const root = mkdtempSync(join(tmpdir(), 'tkube-sqlite-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function freshPath(): string {
  return join(root, `db${++n}`, 'state.db');
}

runConformance('sqlite', async () => {
  const path = freshPath();
  return { store: await openSqliteStore(path, { compactionWindowMs: 0 }), cleanup: async () => rmSync(join(path, '..'), { recursive: true, force: true }) };
});

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('sqlite driver', () => {
  test('opens through the registry, creating parent directories', async () => {
    const path = join(root, 'registry', 'deep', 'er', 'state.db');
    const s = await openStore({ endpoint: `sqlite://${path}` });
    try {
      assert.equal(s.driver, 'sqlite');
      assert.ok(existsSync(path), `${path} was created`);
    } finally {
      await s.close();
    }
    await assert.rejects(openStore({ endpoint: 'sqlite://relative/state.db' }), /three slashes/);
  });

  test('every write survives a reopen with its revision, and revisions continue after it', async () => {
    const path = freshPath();
    let s = await openSqliteStore(path, { compactionWindowMs: 0 });
    const r1 = (await s.create('/a', enc('1'))).revision;
    const r2 = (await s.update('/a', enc('2'), r1)).revision;
    const r3 = (await s.create('/b', enc('b'))).revision;
    const r4 = (await s.delete('/b', r3)).revision;
    await s.close();
    s = await openSqliteStore(path, { compactionWindowMs: 0 });
    try {
      assert.equal(await s.currentRevision(), r4);
      assert.equal(Buffer.from((await s.get('/a', { revision: r1 })).kv!.value).toString(), '1');
      assert.deepEqual((await s.list('/')).kvs.map((kv) => [kv.key, kv.modRevision, kv.createRevision]), [['/a', r2, r1]]);
      const r5 = (await s.create('/c', enc('c'))).revision;
      assert.ok(r5 > r4, `revision ${r5} after reopen not above ${r4}`);
    } finally {
      await s.close();
    }
  });

  test('the revision never goes back, even when the newest rows are compacted away', async () => {
    const path = freshPath();
    let s = await openSqliteStore(path, { compactionWindowMs: 0 });
    const r1 = (await s.create('/a', enc('1'))).revision;
    await s.delete('/a', r1);
    const r3 = (await s.create('/a', enc('2'))).revision;
    const r4 = (await s.delete('/a', r3)).revision;
    await s.compact(r4);
    await s.close();
    s = await openSqliteStore(path, { compactionWindowMs: 0 });
    try {
      assert.equal(await s.currentRevision(), r4);
      assert.equal(await s.compactedRevision(), r4);
      assert.ok((await s.create('/a', enc('3'))).revision > r4, 'a write after reopen is above every earlier revision');
    } finally {
      await s.close();
    }
  });

  test('concurrent writes share transactions (group commit) and each keeps its own precondition', async () => {
    const s = await openSqliteStore(freshPath(), { compactionWindowMs: 0 });
    try {
      const r = (await s.create('/dup', enc('first'))).revision;
      const commitsBefore = s.commits;
      const results = await Promise.allSettled([
        ...Array.from({ length: 64 }, (_, i) => s.create(`/k/${i}`, enc('x'))),
        s.create('/dup', enc('second')),
        s.update('/dup', enc('u1'), r),
        s.update('/dup', enc('u2'), r),
        s.delete('/missing'),
      ]);
      const codes = results.map((x) => (x.status === 'fulfilled' ? 'ok' : (x.reason as { code: string }).code));
      assert.deepEqual(codes.slice(64), ['KeyExists', 'ok', 'Conflict', 'NotFound']);
      assert.deepEqual(codes.slice(0, 64), Array(64).fill('ok'));
      assert.ok(s.commits - commitsBefore <= 2, `68 concurrent writes took ${s.commits - commitsBefore} transactions`);
      const revs = results.filter((x) => x.status === 'fulfilled').map((x) => (x as PromiseFulfilledResult<{ revision: number }>).value.revision);
      assert.equal(new Set(revs).size, revs.length, 'every write has its own revision');
    } finally {
      await s.close();
    }
  });

  test('compaction deletes superseded rows and deletes, and records the compacted revision', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path, { compactionWindowMs: 0 });
    let r = (await s.create('/a', enc('0'))).revision;
    for (let i = 1; i <= 30; i++) r = (await s.update('/a', enc(String(i)), r)).revision;
    const rb = (await s.create('/b', enc('b'))).revision;
    await s.delete('/b', rb);
    const last = (await s.create('/c', enc('c'))).revision;
    await s.compact(last);
    await s.close();
    const db = new Database(path, { readonly: true });
    try {
      const rows = db.prepare('SELECT name, id FROM log ORDER BY id').raw().all();
      assert.deepEqual(rows, [['/a', r], ['/c', last]]);
      assert.equal(db.prepare(`SELECT value FROM meta WHERE name = 'compact_revision'`).pluck().get(), last);
    } finally {
      db.close();
    }
  });

  test('refuses a file that is not a SQLite database, leaving it untouched', async () => {
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const junk = Buffer.alloc(8192, 0x5a);
    writeFileSync(path, junk);
    await assert.rejects(openSqliteStore(path), (err: unknown) => {
      assert.equal((err as { code: string }).code, StorageErrorCode.Corrupt);
      assert.match((err as Error).message, /not a SQLite database/);
      assert.ok((err as Error).message.includes(path), 'the message names the file');
      return true;
    });
    assert.deepEqual(readFileSync(path), junk);
  });

  test('refuses a SQLite database of another program, leaving it untouched', async () => {
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const other = new Database(path);
    other.exec(`CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT); INSERT INTO accounts (owner) VALUES ('alice')`);
    other.close();
    await assert.rejects(openSqliteStore(path), (err: unknown) => {
      assert.equal((err as { code: string }).code, StorageErrorCode.Corrupt);
      assert.match((err as Error).message, /not a tkube state database.*accounts/);
      return true;
    });
    const again = new Database(path, { readonly: true });
    try {
      assert.equal(again.pragma('journal_mode', { simple: true }), 'delete', 'the journal mode was not changed');
      assert.deepEqual(again.prepare('SELECT owner FROM accounts').pluck().all(), ['alice']);
    } finally {
      again.close();
    }
  });

  test('refuses a database written by a newer schema, and one with another application id', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path, { compactionWindowMs: 0 });
    await s.create('/a', enc('1'));
    await s.close();
    let db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    await assert.rejects(openSqliteStore(path), /newer tkube \(schema 99/);
    db = new Database(path);
    db.pragma('user_version = 1');
    db.pragma('application_id = 1234');
    db.close();
    await assert.rejects(openSqliteStore(path), /not a tkube state database \(its application id is 0x4d2/);
  });

  test('refuses a database whose pages are damaged', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path, { compactionWindowMs: 0 });
    for (let i = 0; i < 200; i++) await s.create(`/k/${String(i).padStart(4, '0')}`, new Uint8Array(512).fill(i));
    await s.close();
    const fd = openSync(path, 'r+');
    // Overwrite the middle of the file (table and index pages) with garbage, keeping the header.
    writeSync(fd, Buffer.alloc(4096 * 4, 0xee), 0, 4096 * 4, 4096 * 3);
    closeSync(fd);
    await assert.rejects(openSqliteStore(path), (err: unknown) => {
      assert.equal((err as { code: string }).code, StorageErrorCode.Corrupt);
      return true;
    });
  });

  test('a second store on the same file fails clearly while the first is open', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path, { compactionWindowMs: 0 });
    try {
      await s.create('/a', enc('1'));
      await assert.rejects(openSqliteStore(path), (err: unknown) => {
        assert.equal((err as { code: string }).code, StorageErrorCode.Unavailable);
        assert.match((err as Error).message, /in use by another tkube server or store/);
        return true;
      });
    } finally {
      await s.close();
    }
    const again = await openSqliteStore(path, { compactionWindowMs: 0 });
    await again.close();
  });
});
