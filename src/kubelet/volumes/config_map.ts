// The configMap plugin: the ConfigMap's keys (all, or the listed items under their paths) as files
// with defaultMode or the item's mode, written atomically on the node's disk and rewritten when the
// ConfigMap changes. A missing ConfigMap (or key) fails the mount unless the volume is optional.
import type { ConfigMap, KeyToPath, Volume } from '../../api/types/core_v1.ts';
import { writeAtomically } from './atomic_writer.ts';
import { setUpDir } from './empty_dir.ts';
import type { FileProjection, MountedVolume, VolumeHost, VolumePlugin } from './types.ts';
import { VolumeError } from './types.ts';
import { setVolumeOwnership } from './ownership.ts';

/** The mode of API-data files when the volume sets none (0644). */
export const DEFAULT_MODE = 0o644;

/** The files of a ConfigMap (upstream's configmap MakePayload). */
export function configMapPayload(items: readonly KeyToPath[] | undefined, cm: ConfigMap, defaultMode: number, optional: boolean): Map<string, FileProjection> {
  const out = new Map<string, FileProjection>();
  const data = cm.data ?? {};
  const binary = cm.binaryData ?? {};
  if (!items || items.length === 0) {
    for (const [k, v] of Object.entries(data)) out.set(k, { data: Buffer.from(String(v), 'utf8'), mode: defaultMode });
    for (const [k, v] of Object.entries(binary)) out.set(k, { data: Buffer.from(String(v), 'base64'), mode: defaultMode });
    return out;
  }
  for (const item of items) {
    let bytes: Buffer;
    if (Object.hasOwn(data, item.key)) bytes = Buffer.from(String(data[item.key]), 'utf8');
    else if (Object.hasOwn(binary, item.key)) bytes = Buffer.from(String(binary[item.key]), 'base64');
    else if (optional) continue;
    else throw new VolumeError(`configmap references non-existent config key: ${item.key}`);
    out.set(item.path, { data: bytes, mode: item.mode ?? defaultMode });
  }
  return out;
}

/** The ConfigMap a volume (or projection) names, an empty one when it is optional and missing. */
export async function getConfigMapFor(host: VolumeHost, name: string, optional: boolean): Promise<ConfigMap> {
  const ns = host.pod.metadata?.namespace ?? '';
  const cm = await host.objects.configMap(ns, name);
  if (cm) return cm;
  if (optional) return { metadata: { name, namespace: ns } };
  throw new VolumeError(`configmap ${JSON.stringify(name)} not found`);
}

/** The configMap plugin. */
export const configMapPlugin: VolumePlugin = {
  name: 'kubernetes.io~configmap',
  refreshes: true,
  canSupport: (v: Volume) => v.configMap !== undefined,
  async setUp(host: VolumeHost): Promise<MountedVolume> {
    const src = host.volume.configMap!;
    const optional = src.optional === true;
    const cm = await getConfigMapFor(host, src.name ?? '', optional);
    const payload = configMapPayload(src.items, cm, src.defaultMode ?? DEFAULT_MODE, optional);
    setUpDir(host.dir);
    writeAtomically(host.dir, payload, host.clock);
    setVolumeOwnership(host.dir, host.pod, true);
    return { hostPath: host.dir, readOnly: true, plugin: 'configmap' };
  },
};
