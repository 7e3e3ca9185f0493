// Child process of crash_test.ts: opens a SQLite store and writes with many concurrent writers as
// fast as it can, printing every acknowledged write, until the parent kills it with SIGKILL.
// Usage: crash_writer.ts DB_PATH RUN_ID. Lines: "ready REV", "c KEY REV", "u KEY REV VALUE".
import { openSqliteStore } from '../drivers/sqlite.ts';

const WRITERS = 48;

const [path, run] = process.argv.slice(2);
if (!path || !run) throw new Error('usage: crash_writer.ts DB_PATH RUN_ID');
const store = await openSqliteStore(path, { compactionWindowMs: 0 });
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const say = (line: string): void => {
  process.stdout.write(line + '\n');
};
say(`ready ${await store.currentRevision()}`);

async function writer(w: number): Promise<void> {
  const counter = `/crash/${run}/w${w}/counter`;
  let mod = (await store.create(counter, enc('0'))).revision;
  say(`u ${counter} ${mod} 0`);
  for (let i = 1; ; i++) {
    const key = `/crash/${run}/w${w}/k${i}`;
    const created = await store.create(key, enc(`${key}=${'x'.repeat(i % 512)}`));
    say(`c ${key} ${created.revision}`);
    mod = (await store.update(counter, enc(String(i)), mod)).revision;
    say(`u ${counter} ${mod} ${i}`);
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
