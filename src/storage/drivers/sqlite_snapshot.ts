// Snapshots of the SQLite state (the embedded datastore's `etcdctl snapshot save|restore`): an online,
// consistent copy taken through the open connection, and an offline restore that checks the copy is a
// healthy tkube database before it replaces the state file, keeping the replaced file beside it.
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { openStateDatabase } from './sqlite_schema.ts';
import { StorageError, StorageErrorCode } from '../types.ts';

/** What a snapshot holds. */
export interface SnapshotInfo {
  /** The newest revision in the snapshot. */
  readonly revision: number;
}

/**
 * Copies the database to `dest` while it stays in use: SQLite's online backup, which follows writes
 * made on the same connection meanwhile, so the copy is one consistent state. Written to a temporary
 * name and renamed, so `dest` is either absent or complete.
 */
export async function backupDatabase(db: Database.Database, dest: string): Promise<void> {
  const tmp = `${dest}.partial`;
  try {
    await db.backup(tmp);
    renameSync(tmp, dest);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new StorageError(StorageErrorCode.Unavailable, `cannot write snapshot ${dest}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Replaces the state file at `statePath` by `snapshot`. The server must be stopped: the state file
 * is opened exclusively first, which fails while a server holds it. The snapshot is verified as a
 * copy (opening a file converts it to WAL mode); the replaced state moves to `<statePath>.<time>.bak`.
 */
export function restoreSnapshot(snapshot: string, statePath: string, now: Date = new Date()): SnapshotInfo & { readonly previous?: string } {
  if (!existsSync(snapshot)) throw new StorageError(StorageErrorCode.Unavailable, `snapshot ${snapshot} does not exist`);
  const staged = `${statePath}.restoring`;
  rmSync(staged, { force: true });
  copyFileSync(snapshot, staged);
  let revision: number;
  try {
    const opened = openStateDatabase(staged);
    revision = opened.revision;
    opened.db.close();
  } catch (err) {
    rmSync(staged, { force: true });
    const why = err instanceof Error ? err.message.replace(staged, snapshot) : String(err);
    throw new StorageError(StorageErrorCode.Corrupt, `cannot restore ${snapshot}: ${why}`);
  }
  let previous: string | undefined;
  if (existsSync(statePath)) {
    // Fails while a server holds the file; closing checkpoints its WAL into the file we move.
    try {
      openStateDatabase(statePath).db.close();
    } catch (err) {
      rmSync(staged, { force: true });
      throw err;
    }
    previous = `${statePath}.${now.toISOString().replace(/[:.]/g, '-')}.bak`;
    renameSync(statePath, previous);
    for (const side of ['-wal', '-shm']) rmSync(statePath + side, { force: true });
  }
  renameSync(staged, statePath);
  for (const side of ['-wal', '-shm']) {
    if (existsSync(staged + side)) renameSync(staged + side, statePath + side);
  }
  return { revision, ...(previous ? { previous } : {}) };
}
