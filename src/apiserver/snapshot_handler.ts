// /tkube/v1/snapshots: online snapshots of the embedded SQLite datastore (`tkube snapshot save|ls`),
// RBAC-checked as a non-resource URL (create to take one, get to list), so only cluster admins may.
// An etcd datastore is snapshotted with etcdctl against the etcd cluster, as upstream documents.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Store } from '../storage/types.ts';
import { SqliteStore } from '../storage/drivers/sqlite.ts';
import { newBadRequest, newMethodNotAllowed } from './errors.ts';
import { writeJSON, type Res } from './http_util.ts';

export const SNAPSHOTS_PATH = '/tkube/v1/snapshots';

/** A snapshot file as listed and returned. */
export interface SnapshotEntry {
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly createdAt: string;
  readonly revision?: number;
}

const NAME = /^[a-z0-9]([-a-z0-9._]{0,198}[a-z0-9])?$/;

/** The directory snapshots of a SQLite state file go to: beside it, in snapshots/. */
export function snapshotDir(statePath: string): string {
  return join(dirname(statePath), 'snapshots');
}

/** Serves the snapshot API; `store` is the server's datastore. */
export async function handleSnapshots(res: Res, method: string, query: URLSearchParams, store: Store, now: () => Date = () => new Date()): Promise<void> {
  if (!(store instanceof SqliteStore)) {
    throw newBadRequest(`snapshots are taken of the embedded SQLite datastore; this server uses ${store.driver}: use \`etcdctl snapshot save\` against the etcd cluster`);
  }
  if (method === 'GET' || method === 'HEAD') {
    writeJSON(res, 200, { snapshots: listSnapshots(snapshotDir(store.path)) });
    return;
  }
  if (method !== 'POST') throw newMethodNotAllowed();
  const name = query.get('name') ?? 'snapshot';
  if (!NAME.test(name)) throw newBadRequest(`name: Invalid value: ${JSON.stringify(name)}: must consist of lower case alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  writeJSON(res, 201, await takeSnapshot(store, name, now()));
}

/** Writes `<name>-<time>.db` into the store's snapshot directory (served or offline). */
export async function takeSnapshot(store: SqliteStore, name: string, at: Date): Promise<SnapshotEntry> {
  const dir = snapshotDir(store.path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = `${name}-${at.toISOString().replace(/[:.]/g, '-')}.db`;
  const path = join(dir, file);
  const { revision } = await store.snapshot(path);
  return { name: file, path, size: statSync(path).size, createdAt: at.toISOString(), revision };
}

/** The snapshot files in a directory, oldest first. */
export function listSnapshots(dir: string): SnapshotEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.db'));
  } catch {
    return [];
  }
  return names
    .map((n) => {
      const st = statSync(join(dir, n));
      return { name: n, path: join(dir, n), size: st.size, createdAt: st.mtime.toISOString() };
    })
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
}
