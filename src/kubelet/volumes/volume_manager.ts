// The kubelet's volume manager: sets up every volume of a pod before its sandbox starts (FailedMount
// events and a backoff when one fails, so the pod stays ContainerCreating), refreshes API-data volumes
// (ConfigMap, Secret, Downward API, projected) on a period, and tears a pod's mounts down on removal.
import { join } from 'node:path';
import type { Pod, Volume } from '../../api/types/core_v1.ts';
import { logger } from '../../base/log.ts';
import type { Disposable } from '../../base/disposable.ts';
import { realClock, type Clock, type ClockTimer } from '../../client/clock.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import { configMapPlugin } from './config_map.ts';
import { downwardAPIPlugin } from './downward_api.ts';
import { emptyDirPlugin } from './empty_dir.ts';
import { hostPathPlugin } from './host_path.ts';
import { systemMounter } from './mount_util.ts';
import { persistentVolumeClaimPlugin } from './persistent_volume_claim.ts';
import { projectedPlugin } from './projected.ts';
import { secretPlugin } from './secret.ts';
import { TokenManager } from './token_manager.ts';
import type { MountedVolume, MountOutcome, Mounter, PodVolumes, TokenIssuer, VolumeObjectSource, VolumePlugin } from './types.ts';
import { VolumeError } from './types.ts';

const log = logger('volume-manager');

/** The plugins this node has, by volume source. */
export const VOLUME_PLUGINS: readonly VolumePlugin[] = [
  emptyDirPlugin, hostPathPlugin, configMapPlugin, secretPlugin, downwardAPIPlugin, projectedPlugin, persistentVolumeClaimPlugin,
];

/** Retry delays of a failing volume (upstream's exponential backoff for volume operations). */
const INITIAL_RETRY_MS = 500;
const MAX_RETRY_MS = 122_000;

/** Options of VolumeManager. */
export interface VolumeManagerOptions {
  /** The kubelet's root: volumes live under pods/<uid>/volumes/<plugin>/<name>. */
  readonly root: string;
  readonly objects: VolumeObjectSource;
  /** Issues service-account tokens (TokenRequest). */
  readonly issueToken: TokenIssuer;
  readonly recorder: EventRecorder;
  readonly allocatableMemory: number;
  readonly nodeAllocatable: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  readonly mounter?: Mounter;
  /** How often API-data volumes are refreshed (default 30 s). */
  readonly refreshMs?: number;
  /** Called when a pod's API-data volumes are due; the kubelet syncs the pod, which calls mountPod. */
  readonly onRefreshDue?: (uid: string) => void;
}

interface VolumeState {
  mounted: MountedVolume | undefined;
  lastSetUp: number;
  /** Labels and annotations the volume was last written with (Downward API files follow them). */
  metaKey: string;
  due: boolean;
  failures: number;
  nextRetry: number;
  /** Set up by a plugin whose content comes from the API. */
  refreshes: boolean;
}

/** The ObjectReference-like value events about a pod point at. */
function podRef(pod: Pod): { kind: string; apiVersion: string; name: string; namespace: string; uid: string } {
  const md = pod.metadata ?? {};
  return { kind: 'Pod', apiVersion: 'v1', name: md.name ?? '', namespace: md.namespace ?? '', uid: md.uid ?? '' };
}

/** The plugin of a volume, if this node has one. */
export function pluginFor(v: Volume): VolumePlugin | undefined {
  return VOLUME_PLUGINS.find((p) => p.canSupport(v));
}

/** Sets up, refreshes and tears down pod volumes. */
export class VolumeManager implements PodVolumes, Disposable {
  readonly #o: VolumeManagerOptions;
  readonly #clock: Clock;
  readonly #mounter: Mounter;
  readonly #tokens: TokenManager;
  readonly #refreshMs: number;
  readonly #pods = new Map<string, Map<string, VolumeState>>();
  #timer: ClockTimer | undefined;
  #disposed = false;

  constructor(o: VolumeManagerOptions) {
    if (!o.root.startsWith('/')) throw new Error(`VolumeManagerOptions.root: want an absolute path, got ${JSON.stringify(o.root)}`);
    if (o.refreshMs !== undefined && !(o.refreshMs > 0)) throw new Error(`VolumeManagerOptions.refreshMs: want a positive number, got ${o.refreshMs}`);
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#mounter = o.mounter ?? systemMounter;
    this.#tokens = new TokenManager(o.issueToken, this.#clock);
    this.#refreshMs = o.refreshMs ?? 30_000;
  }

  /** Starts the periodic refresh of API-data volumes. */
  start(): void {
    this.#schedule();
  }

  #schedule(): void {
    if (this.#disposed) return;
    this.#timer = this.#clock.setTimer(() => {
      for (const [uid, vols] of this.#pods) {
        let any = false;
        for (const st of vols.values()) {
          if (st.mounted && st.refreshes) {
            st.due = true;
            any = true;
          }
        }
        if (any) this.#o.onRefreshDue?.(uid);
      }
      this.#schedule();
    }, this.#refreshMs);
  }

  /** The directory of one volume of a pod. */
  volumeDir(uid: string, plugin: VolumePlugin, name: string): string {
    return join(this.#o.root, 'pods', uid, 'volumes', plugin.name, name);
  }

  async mountPod(pod: Pod): Promise<MountOutcome> {
    const uid = pod.metadata?.uid ?? '';
    let vols = this.#pods.get(uid);
    if (!vols) this.#pods.set(uid, (vols = new Map()));
    const now = this.#clock.now();
    const metaKey = JSON.stringify([pod.metadata?.labels ?? {}, pod.metadata?.annotations ?? {}]);
    const mounted = new Map<string, MountedVolume>();
    const unmounted: string[] = [];
    const unprocessed: Array<[string, string]> = [];
    let retryAt = Infinity;
    for (const v of pod.spec?.volumes ?? []) {
      let st = vols.get(v.name);
      if (!st) vols.set(v.name, (st = { mounted: undefined, lastSetUp: 0, metaKey: '', due: false, failures: 0, nextRetry: 0, refreshes: false }));
      const plugin = pluginFor(v);
      const needed = !st.mounted || (plugin?.refreshes === true && (st.due || st.metaKey !== metaKey || now - st.lastSetUp >= this.#refreshMs));
      if (!needed) {
        mounted.set(v.name, st.mounted!);
        continue;
      }
      if (st.nextRetry > now) {
        if (st.mounted) mounted.set(v.name, st.mounted);
        else {
          unmounted.push(v.name);
          retryAt = Math.min(retryAt, st.nextRetry);
        }
        continue;
      }
      try {
        if (!plugin) throw new VolumeError(`failed to get Plugin from volumeSpec for volume ${JSON.stringify(v.name)} err=no volume plugin matched`, 'process');
        const m = await plugin.setUp({
          pod, volume: v, dir: this.volumeDir(uid, plugin, v.name), objects: this.#o.objects, tokens: this.#tokens,
          mounter: this.#mounter, clock: this.#clock, allocatableMemory: this.#o.allocatableMemory, nodeAllocatable: this.#o.nodeAllocatable,
        });
        Object.assign(st, { mounted: m, lastSetUp: now, metaKey, due: false, failures: 0, nextRetry: 0, refreshes: plugin.refreshes });
        mounted.set(v.name, m);
      } catch (err) {
        st.failures++;
        st.nextRetry = now + Math.min(INITIAL_RETRY_MS * 2 ** (st.failures - 1), MAX_RETRY_MS);
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof VolumeError && err.stage === 'process') {
          unprocessed.push([v.name, message]);
        } else {
          this.#o.recorder.event(podRef(pod), EventType.Warning, 'FailedMount', `MountVolume.SetUp failed for volume ${JSON.stringify(v.name)} : ${message}`);
        }
        log.debug('volume set-up failed', { pod: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, volume: v.name, err: message });
        if (st.mounted) {
          // a refresh that failed leaves the last good content in place
          mounted.set(v.name, st.mounted);
        } else {
          unmounted.push(v.name);
          retryAt = Math.min(retryAt, st.nextRetry);
        }
      }
    }
    if (unprocessed.length > 0) {
      const names = unprocessed.map(([n]) => n);
      this.#o.recorder.event(podRef(pod), EventType.Warning, 'FailedMount',
        `Unable to attach or mount volumes: unmounted volumes=[${unmounted.join(' ')}], unattached volumes=[], failed to process volumes=[${names.join(' ')}]: ${unprocessed.map(([, m]) => m).join('; ')}`);
    }
    if (unmounted.length > 0) return { ok: false, retryAfterMs: Math.max(retryAt - now, 100) };
    return { ok: true, volumes: mounted };
  }

  /** Unmounts what the pod's volumes mounted and forgets the pod; true when nothing stays mounted. */
  async unmountPod(uid: string): Promise<boolean> {
    this.#pods.delete(uid);
    this.#tokens.deletePodTokens(uid);
    return this.#unmountUnder(join(this.#o.root, 'pods', uid));
  }

  async #unmountUnder(dir: string): Promise<boolean> {
    let ok = true;
    for (const mp of this.#mounter.mountPointsUnder(dir)) {
      try {
        await this.#mounter.unmount(mp);
      } catch (err) {
        ok = false;
        log.warn('unmounting a volume failed', { path: mp, err: err instanceof Error ? err.message : String(err) });
      }
    }
    return ok;
  }

  /** Unmounts volumes of pods that are no longer known (e.g. removed while the kubelet was down). */
  async cleanupOrphans(isKnownPod: (uid: string) => boolean): Promise<void> {
    const podsDir = join(this.#o.root, 'pods');
    const uids = new Set<string>();
    for (const mp of this.#mounter.mountPointsUnder(podsDir)) {
      const uid = mp.slice(podsDir.length + 1).split('/')[0] ?? '';
      if (uid !== '' && !isKnownPod(uid)) uids.add(uid);
    }
    for (const uid of uids) await this.unmountPod(uid);
  }

  dispose(): void {
    this.#disposed = true;
    this.#timer?.dispose();
    this.#timer = undefined;
  }
}
