// The downwardAPI plugin: pod metadata (name, namespace, uid, labels, annotations) and container
// resources (with divisor) as files on a tmpfs, rewritten atomically when labels or annotations change.
import type { DownwardAPIVolumeFile, Pod, Volume } from '../../api/types/core_v1.ts';
import { fieldRefValue, resourceFieldRefValue } from '../env.ts';
import { writeAtomically } from './atomic_writer.ts';
import { DEFAULT_MODE } from './config_map.ts';
import { setUpMemoryBacked } from './secret.ts';
import type { FileProjection, MountedVolume, VolumeHost, VolumePlugin } from './types.ts';
import { VolumeError } from './types.ts';
import { setVolumeOwnership } from './ownership.ts';

/** Field paths a Downward API file may use (ExtractFieldPathAsString). */
const VOLUME_FIELDS = /^metadata\.(name|namespace|uid|labels|annotations)$|^metadata\.(labels|annotations)\['.*'\]$/;

/** The files of a Downward API volume or projection (CollectData); errors are gathered like an aggregate. */
export function downwardAPIPayload(items: readonly DownwardAPIVolumeFile[] | undefined, pod: Pod, defaultMode: number, nodeAllocatable: Readonly<Record<string, string>>): Map<string, FileProjection> {
  const out = new Map<string, FileProjection>();
  const errors: string[] = [];
  for (const item of items ?? []) {
    let value = '';
    try {
      if (item.fieldRef) {
        if (!VOLUME_FIELDS.test(item.fieldRef.fieldPath)) throw new Error(`unsupported fieldPath: ${item.fieldRef.fieldPath}`);
        value = fieldRefValue(item.fieldRef.fieldPath, pod, [], []);
      } else if (item.resourceFieldRef) {
        const ref = item.resourceFieldRef;
        const container = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === ref.containerName);
        if (!container) throw new Error(`container ${ref.containerName ?? ''} not found`);
        value = resourceFieldRefValue({ resource: ref.resource, ...(ref.divisor !== undefined ? { divisor: String(ref.divisor) } : {}) }, pod, container, nodeAllocatable);
      }
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
    out.set(item.path, { data: Buffer.from(value, 'utf8'), mode: item.mode ?? defaultMode });
  }
  if (errors.length === 1) throw new VolumeError(errors[0]!);
  if (errors.length > 1) throw new VolumeError(`[${errors.join(', ')}]`);
  return out;
}

/** The downwardAPI plugin. */
export const downwardAPIPlugin: VolumePlugin = {
  name: 'kubernetes.io~downward-api',
  refreshes: true,
  canSupport: (v: Volume) => v.downwardAPI !== undefined,
  async setUp(host: VolumeHost): Promise<MountedVolume> {
    const src = host.volume.downwardAPI!;
    const payload = downwardAPIPayload(src.items, host.pod, src.defaultMode ?? DEFAULT_MODE, host.nodeAllocatable);
    await setUpMemoryBacked(host);
    writeAtomically(host.dir, payload, host.clock);
    setVolumeOwnership(host.dir, host.pod, true);
    return { hostPath: host.dir, readOnly: true, plugin: 'downward-api' };
  },
};
