// The projected plugin: ConfigMaps, Secrets, Downward API items and service-account tokens (through
// TokenRequest, bound to the pod, with audience and expiry) merged into one tmpfs directory, written
// atomically; the kube-api-access-* volume every pod gets is one of these.
import type { Volume } from '../../api/types/core_v1.ts';
import { writeAtomically } from './atomic_writer.ts';
import { configMapPayload, DEFAULT_MODE, getConfigMapFor } from './config_map.ts';
import { downwardAPIPayload } from './downward_api.ts';
import { getSecretFor, secretPayload, setUpMemoryBacked } from './secret.ts';
import type { FileProjection, MountedVolume, VolumeHost, VolumePlugin } from './types.ts';
import { VolumeError } from './types.ts';
import { setVolumeOwnership } from './ownership.ts';

/** Default lifetime of a projected token (the API's default for expirationSeconds). */
const DEFAULT_TOKEN_SECONDS = 3600;

/** The merged files of a projected volume (collectData); failures of its sources are aggregated. */
export async function projectedPayload(host: VolumeHost): Promise<Map<string, FileProjection>> {
  const src = host.volume.projected ?? {};
  const defaultMode = src.defaultMode ?? DEFAULT_MODE;
  const pod = host.pod;
  const out = new Map<string, FileProjection>();
  const errors: string[] = [];
  const merge = (m: Map<string, FileProjection>): void => {
    for (const [k, v] of m) out.set(k, v);
  };
  for (const s of src.sources ?? []) {
    try {
      if (s.configMap) {
        const optional = s.configMap.optional === true;
        merge(configMapPayload(s.configMap.items, await getConfigMapFor(host, s.configMap.name ?? '', optional), defaultMode, optional));
      } else if (s.secret) {
        const optional = s.secret.optional === true;
        merge(secretPayload(s.secret.items, await getSecretFor(host, s.secret.name ?? '', optional), defaultMode, optional));
      } else if (s.downwardAPI) {
        merge(downwardAPIPayload(s.downwardAPI.items, pod, defaultMode, host.nodeAllocatable));
      } else if (s.serviceAccountToken) {
        const tp = s.serviceAccountToken;
        const token = await host.tokens.get({
          namespace: pod.metadata?.namespace ?? '',
          serviceAccount: pod.spec?.serviceAccountName ?? '',
          audiences: tp.audience ? [tp.audience] : [],
          expirationSeconds: tp.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
          podName: pod.metadata?.name ?? '',
          podUID: pod.metadata?.uid ?? '',
        });
        // with an fsGroup the group gets read access through the volume's ownership instead
        const mode = pod.spec?.securityContext?.fsGroup !== undefined ? 0o600 : defaultMode;
        out.set(tp.path, { data: Buffer.from(token, 'utf8'), mode });
      } else if (s.clusterTrustBundle) {
        throw new VolumeError('ClusterTrustBundle projection is not supported on this node');
      }
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (errors.length === 1) throw new VolumeError(errors[0]!);
  if (errors.length > 1) throw new VolumeError(`[${errors.join(', ')}]`);
  return out;
}

/** The projected plugin. */
export const projectedPlugin: VolumePlugin = {
  name: 'kubernetes.io~projected',
  refreshes: true,
  canSupport: (v: Volume) => v.projected !== undefined,
  async setUp(host: VolumeHost): Promise<MountedVolume> {
    const payload = await projectedPayload(host);
    await setUpMemoryBacked(host);
    writeAtomically(host.dir, payload, host.clock);
    setVolumeOwnership(host.dir, host.pod, true);
    return { hostPath: host.dir, readOnly: true, plugin: 'projected' };
  },
};
