// Crash test of the SQLite driver: a child process writes with acknowledgements and is killed with
// SIGKILL at a random moment; on reopen every acknowledged write must be there with its revision,
// and revisions must only ever increase, across several crashes of the same file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { openSqliteStore } from './drivers/sqlite.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const writerScript = fileURLToPath(new URL('./testdata/crash_writer.ts', import.meta.url));
const ROUNDS = 5;

/** What the child printed before it died. */
interface Acks {
  readonly startRevision: number;
  readonly creates: Array<{ key: string; revision: number }>;
  readonly updates: Array<{ key: string; revision: number; value: string }>;
}

/** Runs the writer until it has acknowledged `killAfter` writes, then SIGKILLs it. */
function runAndKill(path: string, run: number, killAfter: number): Promise<Acks> {
  const child = spawn(process.execPath, ['--import', join(repo, 'node_modules/tsx/dist/loader.mjs'), writerScript, path, String(run)], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks = { startRevision: -1, creates: [] as Acks['creates'], updates: [] as Acks['updates'] };
  let buffered = '';
  let stderr = '';
  let count = 0;
  return new Promise<Acks>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer acknowledged only ${count} of ${killAfter} writes in time; stderr: ${stderr}`));
    }, 10_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!; // a line cut short by the kill was never fully acknowledged to us
      for (const line of lines) {
        const [kind, a, b, c] = line.split(' ');
        if (kind === 'ready') acks.startRevision = Number(a);
        else if (kind === 'c') acks.creates.push({ key: a!, revision: Number(b) });
        else if (kind === 'u') acks.updates.push({ key: a!, revision: Number(b), value: c! });
        else continue;
        if (kind !== 'ready' && ++count === killAfter) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (code ${code}, signal ${signal}); stderr: ${stderr}`));
      else resolve(acks);
    });
  });
}

test('every acknowledged SQLite write survives SIGKILL, and revisions stay monotonic', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-crash-test-'));
  const path = join(dir, 'db', 'state.db');
  try {
    let highest = 0;
    for (let run = 0; run < ROUNDS; run++) {
      const killAfter = 100 + Math.floor(Math.random() * 3000);
      const acks = await runAndKill(path, run, killAfter);
      assert.ok(acks.startRevision >= highest, `run ${run} opened at revision ${acks.startRevision}, below the ${highest} acknowledged before`);
      const revisions = [...acks.creates, ...acks.updates].map((a) => a.revision);
      assert.ok(revisions.length >= killAfter, `only ${revisions.length} acks parsed`);
      assert.equal(new Set(revisions).size, revisions.length, 'no revision was acknowledged twice');
      assert.ok(Math.min(...revisions) > highest, 'revisions of a new run start above every earlier one');
      // Each writer waits for one ack before its next write, so its acks must increase.
      const perWriter = new Map<string, number>();
      for (const a of [...acks.creates, ...acks.updates].sort((x, y) => x.revision - y.revision)) {
        const w = a.key.split('/')[3]!;
        assert.ok(a.revision > (perWriter.get(w) ?? 0), `writer ${w} got revision ${a.revision} after ${perWriter.get(w)}`);
        perWriter.set(w, a.revision);
      }
      const store = await openSqliteStore(path, { compactionWindowMs: 0 });
      try {
        const current = await store.currentRevision();
        assert.ok(current >= Math.max(...revisions), `reopened at ${current}, below an acknowledged revision`);
        for (const { key, revision } of acks.creates) {
          const kv = (await store.get(key)).kv;
          assert.ok(kv, `acknowledged create of ${key} at ${revision} was lost`);
          assert.equal(kv.modRevision, revision);
          assert.equal(kv.createRevision, revision);
          assert.ok(Buffer.from(kv.value).toString().startsWith(`${key}=`), `value of ${key} is intact`);
        }
        for (const { key, revision, value } of acks.updates) {
          const kv = (await store.get(key, { revision })).kv;
          assert.ok(kv, `acknowledged write of ${key} at ${revision} was lost`);
          assert.equal(kv.modRevision, revision);
          assert.equal(Buffer.from(kv.value).toString(), value);
        }
        const all = await store.list(`/crash/${run}/`);
        const mods = all.kvs.map((kv) => kv.modRevision);
        assert.equal(new Set(mods).size, mods.length);
        assert.ok(mods.every((m) => m <= current), 'no key is newer than the current revision');
        highest = current;
      } finally {
        await store.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
