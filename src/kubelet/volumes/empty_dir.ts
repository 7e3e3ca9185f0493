// The emptyDir plugin: a world-writable directory under the pod, on the node's disk or, with
// `medium: Memory`, a tmpfs sized by the smallest of sizeLimit, the pod's memory limit and node
// allocatable memory. Secret, Downward API and projected volumes sit on such a tmpfs too.
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import type { Pod, Volume } from '../../api/types/core_v1.ts';
import { parseQuantity, quantityValue } from '../../api/quantity.ts';
import { setVolumeOwnership } from './ownership.ts';
import type { Mounter, MountedVolume, VolumeHost, VolumePlugin } from './types.ts';
import { VolumeError } from './types.ts';

const PERM = 0o777;

function bytesOf(q: string | number | undefined): number | undefined {
  if (q === undefined || q === '') return undefined;
  try {
    return Number(quantityValue(parseQuantity(String(q))));
  } catch {
    return undefined;
  }
}

/** The pod's memory limit as its cgroup gets it: unset unless every container has one. */
export function podMemoryLimit(pod: Pod): number | undefined {
  const app = pod.spec?.containers ?? [];
  const limits = app.map((c) => bytesOf(c.resources?.limits?.['memory']));
  if (app.length === 0 || limits.some((l) => l === undefined)) return undefined;
  let total = limits.reduce<number>((a, b) => a + (b ?? 0), 0);
  for (const c of pod.spec?.initContainers ?? []) {
    const l = bytesOf(c.resources?.limits?.['memory']);
    if (l === undefined) return undefined;
    // a sidecar (restartPolicy Always) runs beside the app containers
    if (c.restartPolicy === 'Always') total += l;
    else total = Math.max(total, l);
  }
  const overhead = bytesOf(pod.spec?.overhead?.['memory']);
  return total + (overhead ?? 0);
}

/** The size of a memory-backed emptyDir (calculateEmptyDirMemorySize). */
export function memoryVolumeSize(pod: Pod, sizeLimit: string | undefined, allocatableMemory: number): number {
  let size = allocatableMemory;
  const podLimit = podMemoryLimit(pod);
  if (podLimit !== undefined && podLimit > 0 && podLimit <= size) size = podLimit;
  const volumeLimit = bytesOf(sizeLimit);
  if (volumeLimit !== undefined && volumeLimit > 0 && volumeLimit <= size) size = volumeLimit;
  return size;
}

/** Creates `dir` with mode 0777 whatever the umask (setupDir). */
export function setUpDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PERM });
  if ((lstatSync(dir).mode & 0o777) !== PERM) chmodSync(dir, PERM);
}

/** Sets up a tmpfs at `dir` unless one is there already. */
export async function setUpTmpfs(dir: string, sizeBytes: number | undefined, mounter: Mounter): Promise<void> {
  setUpDir(dir);
  if (mounter.mountPointsUnder(dir).includes(dir)) return;
  await mounter.mountTmpfs(dir, sizeBytes && sizeBytes > 0 ? sizeBytes : undefined);
}

/** The emptyDir plugin. */
export const emptyDirPlugin: VolumePlugin = {
  name: 'kubernetes.io~empty-dir',
  refreshes: false,
  canSupport: (v: Volume) => v.emptyDir !== undefined,
  async setUp(host: VolumeHost): Promise<MountedVolume> {
    const src = host.volume.emptyDir ?? {};
    const medium = src.medium ?? '';
    if (medium === 'Memory') {
      await setUpTmpfs(host.dir, memoryVolumeSize(host.pod, src.sizeLimit, host.allocatableMemory), host.mounter);
    } else if (medium === '') {
      setUpDir(host.dir);
    } else if (medium.startsWith('HugePages')) {
      throw new VolumeError(`hugepages volumes are not supported on this node (medium ${JSON.stringify(medium)})`);
    } else {
      throw new VolumeError(`unknown storage medium ${JSON.stringify(medium)}`);
    }
    setVolumeOwnership(host.dir, host.pod, false);
    return { hostPath: host.dir, readOnly: false, plugin: 'empty-dir' };
  },
};
