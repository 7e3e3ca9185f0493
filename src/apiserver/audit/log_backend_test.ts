// Audit log backend: one JSON line per event, lumberjack-style rotation and retention, stdout.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { AuditLogBackend } from './log_backend.ts';
import { encodeEventLine, type AuditEvent } from './event.ts';

function event(i: number): AuditEvent {
  return {
    level: 'Metadata', auditID: `id-${String(i).padStart(4, '0')}`, stage: 'ResponseComplete', requestURI: '/api/v1/pods', verb: 'list',
    user: { username: 'admin' }, requestReceivedTimestamp: 1_700_000_000_000_000, stageTimestamp: 1_700_000_000_000_000,
  };
}

/** Bytes of one encoded event line (all test events have the same length). */
const LINE = Buffer.byteLength(encodeEventLine(event(0)));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'audit-log-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A clock that moves one second per call, from a fixed start. */
function steppingClock(startIso: string): () => Date {
  let t = Date.parse(startIso);
  return () => new Date((t += 1000));
}

describe('AuditLogBackend', () => {
  test('writes one JSON line per event, flushed on dispose, to a 0600 file', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'sub', 'audit.log');
      const b = new AuditLogBackend({ path });
      b.processEvents(event(1), event(2));
      b.processEvents(event(3));
      await b.dispose();
      const lines = (await readFile(path, 'utf8')).split('\n');
      assert.equal(lines.pop(), '');
      assert.deepEqual(lines.map((l) => (JSON.parse(l) as { auditID: string }).auditID), ['id-0001', 'id-0002', 'id-0003']);
      assert.equal(lines[0], '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-0001","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"admin"},"requestReceivedTimestamp":"2023-11-14T22:13:20.000000Z","stageTimestamp":"2023-11-14T22:13:20.000000Z"}');
      assert.equal((await stat(path)).mode & 0o777, 0o600);
    });
  });

  test('appends to an existing log', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'audit.log');
      await writeFile(path, 'old\n');
      const b = new AuditLogBackend({ path });
      b.processEvents(event(1));
      await b.dispose();
      assert.match(await readFile(path, 'utf8'), /^old\n\{"kind":"Event"/);
    });
  });

  test('rotates at maxsize into <name>-<UTC time>.<ext> and keeps maxbackup files', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'audit.log');
      const b = new AuditLogBackend({ path, maxSizeBytes: LINE * 3, maxBackups: 2, now: steppingClock('2024-03-04T05:06:07.000Z') });
      for (let i = 1; i <= 10; i++) {
        b.processEvents(event(i));
        await b.flush();
      }
      await b.dispose();
      const files = (await readdir(dir)).sort();
      assert.equal(files.length, 3, files.join(' '));
      assert.equal(files[2], 'audit.log');
      for (const f of files.slice(0, 2)) assert.match(f, /^audit-2024-03-04T05-06-\d\d\.000\.log$/);
      const ids = async (f: string) => (await readFile(join(dir, f), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { auditID: string }).auditID);
      assert.deepEqual(await ids('audit.log'), ['id-0010']);
      assert.deepEqual(await ids(files[1]!), ['id-0007', 'id-0008', 'id-0009']);
      assert.deepEqual(await ids(files[0]!), ['id-0004', 'id-0005', 'id-0006']);
    });
  });

  test('rotates within one flushed batch too', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'audit.json');
      const b = new AuditLogBackend({ path, maxSizeBytes: LINE * 2, now: steppingClock('2024-03-04T05:06:07.000Z') });
      b.processEvents(...[1, 2, 3, 4, 5].map(event));
      await b.dispose();
      const files = (await readdir(dir)).sort();
      assert.deepEqual(files, ['audit-2024-03-04T05-06-08.000.json', 'audit-2024-03-04T05-06-09.000.json', 'audit.json']);
      let total = 0;
      for (const f of files) total += (await readFile(join(dir, f), 'utf8')).trim().split('\n').length;
      assert.equal(total, 5);
    });
  });

  test('removes backups older than maxage and compresses the rest', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'audit.log');
      await writeFile(join(dir, 'audit-2024-01-01T00-00-00.000.log'), 'ancient\n');
      await writeFile(join(dir, 'audit-2024-03-01T00-00-00.000.log'), 'recent\n');
      await writeFile(join(dir, 'unrelated-2024-01-01T00-00-00.000.log'), 'keep\n');
      const b = new AuditLogBackend({ path, maxAgeDays: 30, compress: true, now: () => new Date('2024-03-10T00:00:00.000Z') });
      b.processEvents(event(1));
      await b.dispose();
      const files = (await readdir(dir)).sort();
      assert.deepEqual(files, ['audit-2024-03-01T00-00-00.000.log.gz', 'audit.log', 'unrelated-2024-01-01T00-00-00.000.log']);
      assert.equal(gunzipSync(await readFile(join(dir, files[0]!))).toString(), 'recent\n');
    });
  });

  test('"-" writes to standard output', async () => {
    const out: string[] = [];
    const b = new AuditLogBackend({ path: '-', stdout: { write: (t: string) => out.push(t) } });
    b.processEvents(event(1));
    await b.flush();
    b.processEvents(event(2));
    await b.dispose();
    assert.equal(out.join('').split('\n').filter((l) => l !== '').length, 2);
  });

  test('rejects negative limits naming the flag', () => {
    assert.throws(() => new AuditLogBackend({ path: '-', maxAgeDays: -1 }), { message: "--audit-log-maxage -1 can't be a negative number" });
    assert.throws(() => new AuditLogBackend({ path: '-', maxBackups: -2 }), { message: "--audit-log-maxbackup -2 can't be a negative number" });
    assert.throws(() => new AuditLogBackend({ path: '-', maxSizeMB: -3 }), { message: "--audit-log-maxsize -3 can't be a negative number" });
  });
});
