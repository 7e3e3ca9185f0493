// The node's mount table as the kubelet needs it: tmpfs mounts through mount(8), unmounts through
// umount(8), and the mount points under a directory read from /proc/self/mountinfo.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Mounter } from './types.ts';

const run = promisify(execFile);

/** A mountinfo path with its octal escapes (\040 for a space) decoded. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount points of a mountinfo text at or under `dir`, deepest first. */
export function mountPointsIn(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const out = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = unescapeMountPath(f[4]!);
    if (mp === dir || mp.startsWith(prefix)) out.add(mp);
  }
  return [...out].sort((a, b) => b.length - a.length || (a < b ? 1 : -1));
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr || e.message || String(err)).trim();
}

/** The real mounter (root). */
export const systemMounter: Mounter = {
  async mountTmpfs(dir, sizeBytes) {
    const args = ['-t', 'tmpfs', ...(sizeBytes !== undefined ? ['-o', `size=${sizeBytes}`] : []), 'tmpfs', dir];
    try {
      await run('mount', args);
    } catch (err) {
      throw new Error(`mount failed: ${stderrOf(err)}\nMounting command: mount\nMounting arguments: ${args.join(' ')}`);
    }
  },
  async unmount(dir) {
    try {
      await run('umount', [dir]);
    } catch (err) {
      // busy (a process still inside): detach it now, the kernel frees it when the last user goes
      try {
        await run('umount', ['-l', dir]);
      } catch {
        throw new Error(`unmount failed: ${stderrOf(err)}`);
      }
    }
  },
  mountPointsUnder(dir) {
    return mountPointsIn(readFileSync('/proc/self/mountinfo', 'utf8'), dir);
  },
};
