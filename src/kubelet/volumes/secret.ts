// The secret plugin: the Secret's keys (all, or the listed items under their paths) as files with
// defaultMode or the item's mode, on a tmpfs so they never touch the disk, written atomically and
// rewritten when the Secret changes. A missing Secret (or key) fails the mount unless optional.
import type { KeyToPath, Secret, Volume } from '../../api/types/core_v1.ts';
import { writeAtomically } from './atomic_writer.ts';
import { DEFAULT_MODE } from './config_map.ts';
import { memoryVolumeSize, setUpTmpfs } from './empty_dir.ts';
import type { FileProjection, MountedVolume, VolumeHost, VolumePlugin } from './types.ts';
import { VolumeError } from './types.ts';
import { setVolumeOwnership } from './ownership.ts';

/** The files of a Secret (upstream's secret MakePayload); data values are base64 on the wire. */
export function secretPayload(items: readonly KeyToPath[] | undefined, secret: Secret, defaultMode: number, optional: boolean): Map<string, FileProjection> {
  const out = new Map<string, FileProjection>();
  const data = secret.data ?? {};
  if (!items || items.length === 0) {
    for (const [k, v] of Object.entries(data)) out.set(k, { data: Buffer.from(String(v), 'base64'), mode: defaultMode });
    return out;
  }
  for (const item of items) {
    if (!Object.hasOwn(data, item.key)) {
      if (optional) continue;
      throw new VolumeError(`references non-existent secret key: ${item.key}`);
    }
    out.set(item.path, { data: Buffer.from(String(data[item.key]), 'base64'), mode: item.mode ?? defaultMode });
  }
  return out;
}

/** The Secret a volume (or projection) names, an empty one when it is optional and missing. */
export async function getSecretFor(host: VolumeHost, name: string, optional: boolean): Promise<Secret> {
  const ns = host.pod.metadata?.namespace ?? '';
  const s = await host.objects.secret(ns, name);
  if (s) return s;
  if (optional) return { metadata: { name, namespace: ns } };
  throw new VolumeError(`secret ${JSON.stringify(name)} not found`);
}

/** Sets up the memory-backed directory of a Secret, Downward API or projected volume. */
export async function setUpMemoryBacked(host: VolumeHost): Promise<void> {
  await setUpTmpfs(host.dir, memoryVolumeSize(host.pod, undefined, host.allocatableMemory), host.mounter);
}

/** The secret plugin. */
export const secretPlugin: VolumePlugin = {
  name: 'kubernetes.io~secret',
  refreshes: true,
  canSupport: (v: Volume) => v.secret !== undefined,
  async setUp(host: VolumeHost): Promise<MountedVolume> {
    const src = host.volume.secret!;
    const optional = src.optional === true;
    const secret = await getSecretFor(host, src.secretName ?? '', optional);
    const payload = secretPayload(src.items, secret, src.defaultMode ?? DEFAULT_MODE, optional);
    await setUpMemoryBacked(host);
    writeAtomically(host.dir, payload, host.clock);
    setVolumeOwnership(host.dir, host.pod, true);
    return { hostPath: host.dir, readOnly: true, plugin: 'secret' };
  },
};
