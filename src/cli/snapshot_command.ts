// `tkube snapshot save|ls|restore`: backup and restore of the embedded SQLite datastore, as
// `etcdctl snapshot save|restore` for etcd. save asks the running server (an online, consistent
// copy) or, when no server runs, copies the state file itself; restore needs the server stopped.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RestClient } from '../client/rest_client.ts';
import { listSnapshots, snapshotDir, SNAPSHOTS_PATH, takeSnapshot, type SnapshotEntry } from '../apiserver/snapshot_handler.ts';
import { openSqliteStore } from '../storage/drivers/sqlite.ts';
import { restoreSnapshot } from '../storage/drivers/sqlite_snapshot.ts';

/** Flags common to the snapshot commands. */
export interface SnapshotFlags {
  dataDir: string;
  kubeconfig?: string;
}

function statePath(dataDir: string): string {
  return join(dataDir, 'db', 'state.db');
}

function isConnectionRefused(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === 'ECONNREFUSED') return true;
  }
  return false;
}

function describe(e: SnapshotEntry): string {
  return `${e.path} (${e.revision !== undefined ? `revision ${e.revision}, ` : ''}${e.size} bytes)`;
}

/** `tkube snapshot save`: returns the exit code. */
export async function snapshotSave(o: SnapshotFlags & { name?: string }): Promise<number> {
  const name = o.name ?? 'on-demand';
  const kubeconfig = o.kubeconfig ?? join(o.dataDir, 'kubeconfig.yaml');
  if (existsSync(kubeconfig)) {
    const client = await RestClient.fromKubeconfig(kubeconfig, { userAgent: 'tkube-snapshot' });
    try {
      const entry = await client.request<SnapshotEntry>({ method: 'POST', path: SNAPSHOTS_PATH, query: { name } });
      console.log(`snapshot saved: ${describe(entry)}`);
      return 0;
    } catch (err) {
      if (!isConnectionRefused(err)) {
        console.error(`tkube: snapshot save: ${err instanceof Error ? err.message : String(err)}`);
        return 1;
      }
    } finally {
      await client.dispose();
    }
  }
  // No server answers: take the copy from the file (opening it fails if a server holds it after all).
  const path = statePath(o.dataDir);
  if (!existsSync(path)) {
    console.error(`tkube: snapshot save: no server answers and there is no state file at ${path}`);
    return 1;
  }
  try {
    const store = await openSqliteStore(path, { compactionWindowMs: 0 });
    try {
      console.log(`snapshot saved: ${describe(await takeSnapshot(store, name, new Date()))}`);
      return 0;
    } finally {
      await store.close();
    }
  } catch (err) {
    console.error(`tkube: snapshot save: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** `tkube snapshot ls`. */
export function snapshotList(o: SnapshotFlags): number {
  const rows = listSnapshots(snapshotDir(statePath(o.dataDir)));
  console.log(`${'NAME'.padEnd(52)} ${'SIZE'.padStart(12)}  CREATED`);
  for (const r of rows) console.log(`${r.name.padEnd(52)} ${String(r.size).padStart(12)}  ${r.createdAt}`);
  return 0;
}

/** `tkube snapshot restore FILE`: the server must be stopped. */
export function snapshotRestore(file: string, o: SnapshotFlags): number {
  const path = statePath(o.dataDir);
  // A bare name refers to a file in the snapshots directory.
  const source = existsSync(file) || file.includes('/') ? file : join(snapshotDir(path), file);
  try {
    const r = restoreSnapshot(source, path);
    console.log(`restored ${source} into ${path} (revision ${r.revision})${r.previous ? `; the replaced state is kept as ${r.previous}` : ''}`);
    console.log('start the server again; clients and agents relist what changed');
    return 0;
  } catch (err) {
    console.error(`tkube: snapshot restore: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
