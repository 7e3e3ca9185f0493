// Writes the files of a ConfigMap, Secret, Downward API or projected volume so that readers never see
// a half-updated set: the data lives in a hidden timestamped directory, `..data` links to it, and the
// visible names link into `..data`; an update writes a new directory and renames a new `..data` link over the old.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { Clock } from '../../client/clock.ts';
import type { FileProjection } from './types.ts';

const DATA_DIR = '..data';
const NEW_DATA_DIR = '..data_tmp';
const MAX_FILE_NAME = 255;
const MAX_PATH = 4096;

/** Why a payload path is not acceptable (upstream's validatePath), or undefined. */
export function validatePayloadPath(p: string): string | undefined {
  if (p === '') return `invalid path: must not be empty: ${JSON.stringify(p)}`;
  if (p.startsWith('/')) return `invalid path: must be relative path: ${p}`;
  if (p.length > MAX_PATH) return `invalid path: must be less than or equal to ${MAX_PATH} characters`;
  const items = p.split('/');
  for (const item of items) {
    if (item === '..') return `invalid path: must not contain '..': ${p}`;
    if (item.length > MAX_FILE_NAME) return `invalid path: filenames must be less than or equal to ${MAX_FILE_NAME} characters`;
  }
  if (items[0]!.startsWith('..') && items[0]!.length > 2) return `invalid path: must not start with '..': ${p}`;
  return undefined;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** The prefix of a new data directory, "..2006_01_02_15_04_05." in UTC as upstream names them. */
export function timestampPrefix(ms: number): string {
  const d = new Date(ms);
  return `..${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}_${pad(d.getUTCDate())}_${pad(d.getUTCHours())}_${pad(d.getUTCMinutes())}_${pad(d.getUTCSeconds())}.`;
}

/** Every file and directory under `dir`, relative to it. */
function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(join(dir, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    out.push(p);
    if (e.isDirectory()) out.push(...walk(dir, p));
  }
  return out;
}

function sameFile(path: string, f: FileProjection): boolean {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || (st.mode & 0o7777) !== (f.mode & 0o7777)) return false;
    return readFileSync(path).equals(f.data);
  } catch {
    return false;
  }
}

/** Projects `payload` into `targetDir` atomically; returns whether anything changed. */
export function writeAtomically(targetDir: string, payload: ReadonlyMap<string, FileProjection>, clock: Clock): boolean {
  const clean = new Map<string, FileProjection>();
  for (const [p, f] of payload) {
    const why = validatePayloadPath(p);
    if (why) throw new Error(why);
    clean.set(normalize(p).replace(/\/+$/, ''), f);
  }
  mkdirSync(targetDir, { recursive: true });
  const dataLink = join(targetDir, DATA_DIR);
  let oldTs = '';
  try {
    oldTs = readlinkSync(dataLink);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let toRemove: string[] = [];
  if (oldTs !== '') {
    const oldDir = join(targetDir, oldTs);
    const newPaths = new Set<string>();
    for (const p of clean.keys()) {
      for (let sub = p; sub !== '.' && sub !== ''; sub = dirname(sub)) newPaths.add(sub);
    }
    const oldFiles = walk(oldDir);
    toRemove = oldFiles.filter((p) => !newPaths.has(p));
    const unchanged = [...clean].every(([p, f]) => sameFile(join(oldDir, p), f));
    if (unchanged && toRemove.length === 0) return false;
  }

  const tsDir = mkdtempSync(join(targetDir, timestampPrefix(clock.now())));
  // group and other must be able to walk the tree whatever the umask
  chmodSync(tsDir, 0o755);
  try {
    for (const [p, f] of clean) {
      const full = join(tsDir, p);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, f.data, { mode: f.mode });
      chmodSync(full, f.mode);
    }
    for (const p of clean.keys()) {
      const top = p.split('/')[0]!;
      const visible = join(targetDir, top);
      try {
        readlinkSync(visible);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        symlinkSync(join(DATA_DIR, top), visible);
      }
    }
    const tmpLink = join(targetDir, NEW_DATA_DIR);
    rmSync(tmpLink, { force: true });
    symlinkSync(tsDir.slice(targetDir.length + 1), tmpLink);
    renameSync(tmpLink, dataLink);
  } catch (err) {
    rmSync(tsDir, { recursive: true, force: true });
    throw err;
  }
  // only the links at the top are ours to remove; deeper paths vanished with the old directory
  for (const p of toRemove) {
    if (p.includes('/')) continue;
    try {
      unlinkSync(join(targetDir, p));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  if (oldTs !== '') rmSync(join(targetDir, oldTs), { recursive: true, force: true });
  return true;
}
