// fsGroup ownership of a volume (SetVolumeOwnership): every file and directory goes to the pod's
// fsGroup with group read (and write unless read-only) access; directories get setgid so new files
// inherit the group. Symlinks change group only.
import { chmodSync, lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../../api/types/core_v1.ts';

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

function change(path: string, gid: number, readOnly: boolean): void {
  const st = lstatSync(path);
  lchownSync(path, -1, gid);
  if (st.isSymbolicLink()) return;
  let mask = readOnly ? RO_MASK : RW_MASK;
  if (st.isDirectory()) mask |= SETGID | EXEC_MASK;
  chmodSync(path, (st.mode & 0o7777) | mask);
}

function walk(path: string, fn: (p: string) => void): void {
  fn(path);
  const st = lstatSync(path);
  if (!st.isDirectory()) return;
  for (const name of readdirSync(path)) walk(join(path, name), fn);
}

/** Gives the volume at `dir` to the pod's fsGroup, when it has one. */
export function setVolumeOwnership(dir: string, pod: Pod, readOnly: boolean): void {
  const gid = pod.spec?.securityContext?.fsGroup;
  if (gid === undefined || gid === null) return;
  walk(dir, (p) => change(p, gid, readOnly));
}
