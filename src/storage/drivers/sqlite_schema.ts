// Opening the SQLite state file: creates the schema in a new file, and refuses, with an error that
// names the file and the reason, anything that is not a healthy tkube database of a known version
// (random bytes, another program's SQLite file, a newer schema, a file another process holds).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StorageError, StorageErrorCode } from '../types.ts';

/** Marks the file as ours in the SQLite header ("tkub"). */
export const APPLICATION_ID = 0x746b7562;
/** Schema version in the header's user_version; bump with a migration. */
export const SCHEMA_VERSION = 1;

const LOG_COLUMNS = ['id', 'name', 'created', 'deleted', 'create_revision', 'prev_revision', 'value'];

// Every write is a row; the row id is the revision (kine's design). created rows keep
// create_revision 0 (it is their own id); deleted rows keep no value (it is the previous row's).
const SCHEMA = `
CREATE TABLE log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value BLOB
);
CREATE INDEX log_name_id ON log (name, id);
CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (name, value) VALUES ('compact_revision', 0);
`;

/** An open, verified state database. */
export interface OpenedDatabase {
  readonly db: Database.Database;
  /** The newest revision ever written. */
  readonly revision: number;
  /** The compacted revision recorded by the last compaction. */
  readonly compacted: number;
}

/** Opens (creating if needed) the state database at `path`, holding it exclusively. */
export function openStateDatabase(path: string): OpenedDatabase {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StorageError(StorageErrorCode.Unavailable, `cannot create the directory of ${path}: ${message(err)}`);
  }
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 1000 });
  } catch (err) {
    throw sqliteError(path, err);
  }
  try {
    // One process owns the file: a second server on the same data dir fails here, not later.
    db.pragma('locking_mode = EXCLUSIVE');
    const appId = db.pragma('application_id', { simple: true }) as number;
    if (appId === 0) {
      const objects = db.prepare(`SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
      if (objects.length > 0) {
        throw foreign(path, `it holds ${objects.slice(0, 5).join(', ')}${objects.length > 5 ? ', …' : ''} and no tkube application id`);
      }
    } else if (appId !== APPLICATION_ID) {
      throw foreign(path, `its application id is 0x${(appId >>> 0).toString(16)}, not tkube's 0x${APPLICATION_ID.toString(16)}`);
    }
    if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') {
      throw new StorageError(StorageErrorCode.Unavailable, `${path}: cannot switch the database to WAL mode`);
    }
    // NORMAL: a commit is in the WAL file (the kernel's page cache) before it is acknowledged, so
    // it survives the process being killed at any moment; only checkpoints fsync. FULL would also
    // survive power loss, at an fsync per commit that blocks the event loop (most of a write's cost).
    db.pragma('synchronous = NORMAL');
    if (appId === 0) {
      db.transaction(() => {
        db.exec(SCHEMA);
        db.pragma(`application_id = ${APPLICATION_ID}`);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    }
    verify(db, path);
    // Take the write lock now, so that it is held for the life of the store.
    db.transaction(() => undefined).immediate();
    const revision = (db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'log'`).pluck().get() as number | undefined) ?? 0;
    const compacted = db.prepare(`SELECT value FROM meta WHERE name = 'compact_revision'`).pluck().get() as number;
    return { db, revision, compacted };
  } catch (err) {
    db.close();
    throw err instanceof StorageError ? err : sqliteError(path, err);
  }
}

/** Checks version, tables and page integrity of a file carrying our application id. */
function verify(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StorageError(StorageErrorCode.Corrupt, `${path} was written by a newer tkube (schema ${version}; this build reads schema ${SCHEMA_VERSION}); refusing to open it`);
  }
  if (version !== SCHEMA_VERSION) {
    throw corrupt(path, `unknown schema version ${version}`);
  }
  const columns = (db.prepare(`SELECT name FROM pragma_table_info('log')`).pluck().all() as string[]);
  const missing = LOG_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) throw corrupt(path, `table log lacks ${missing.join(', ')}`);
  const metaColumns = db.prepare(`SELECT name FROM pragma_table_info('meta')`).pluck().all() as string[];
  if (!metaColumns.includes('name') || !metaColumns.includes('value')) throw corrupt(path, 'table meta is missing');
  const hasCompact = db.prepare(`SELECT COUNT(*) FROM meta WHERE name = 'compact_revision'`).pluck().get() as number;
  if (hasCompact !== 1) throw corrupt(path, 'the compacted revision is not recorded');
  const check = db.pragma('quick_check', { simple: false }) as Array<{ quick_check: string }>;
  if (check.length !== 1 || check[0]!.quick_check !== 'ok') {
    throw corrupt(path, check.slice(0, 3).map((r) => r.quick_check).join('; '));
  }
}

/** Maps a better-sqlite3 error to a storage fault that names the file. */
export function sqliteError(path: string, err: unknown): StorageError {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'SQLITE_NOTADB':
      return new StorageError(StorageErrorCode.Corrupt, `${path} is not a SQLite database (${message(err)}); refusing to use it as tkube state: move it away or choose another --data-dir`);
    case 'SQLITE_CORRUPT':
    case 'SQLITE_CORRUPT_INDEX':
    case 'SQLITE_CORRUPT_SEQUENCE':
    case 'SQLITE_CORRUPT_VTAB':
      return corrupt(path, message(err));
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new StorageError(StorageErrorCode.Unavailable, `${path} is in use by another tkube server or store (${message(err)}); only one may open a SQLite state file at a time`);
    default:
      return new StorageError(StorageErrorCode.Unavailable, `${path}: ${message(err)}`);
  }
}

function foreign(path: string, why: string): StorageError {
  return new StorageError(StorageErrorCode.Corrupt, `${path} is a SQLite database but not a tkube state database (${why}); refusing to use it: move it away or choose another --data-dir`);
}

function corrupt(path: string, why: string): StorageError {
  return new StorageError(StorageErrorCode.Corrupt, `${path} is corrupt (${why}); refusing to open it: restore a backup or move it away`);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
