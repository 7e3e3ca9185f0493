// Garbage collection of dead containers and sandboxes (upstream's kuberuntime_gc.go, with
// MaxPerPodContainer 1): of each pod's container keep the newest instance and one dead one before
// it (for `logs --previous`); drop replaced sandboxes; hand pods no longer bound here to their
// worker for removal; delete pod and log directories nothing refers to any more.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../base/log.ts';
import { isNotFound, type RuntimeService } from './cri/types.ts';
import { CONTAINER_NAME_LABEL, POD_UID_LABEL } from './labels.ts';

const log = logger('container-gc');

/** What the collector needs. */
export interface ContainerGcOptions {
  readonly runtime: RuntimeService;
  /** Whether the pod with this UID is bound here. */
  readonly isKnownPod: (uid: string) => boolean;
  /** False until the pod list arrived: nothing is an orphan before that. */
  readonly podsSynced: () => boolean;
  /** A pod the runtime holds that is not bound here any more. */
  readonly onOrphan: (uid: string) => void;
  /** Forget cached state of a removed container. */
  readonly forgetContainer?: (id: string) => void;
  /** The kubelet's root (pods/ and logs/ live there). */
  readonly root: string;
  /** Dead instances kept per container besides the newest (default 1). */
  readonly maxDeadPerContainer?: number;
}

/** One collection pass. */
export async function garbageCollect(o: ContainerGcOptions): Promise<void> {
  const [containers, sandboxes] = await Promise.all([o.runtime.listContainers(), o.runtime.listPodSandbox()]);
  const synced = o.podsSynced();
  const keep = o.maxDeadPerContainer ?? 1;
  const runtimeUids = new Set<string>();
  const orphans = new Set<string>();

  const units = new Map<string, typeof containers>();
  for (const c of containers) {
    const uid = c.labels[POD_UID_LABEL];
    if (!uid) continue;
    runtimeUids.add(uid);
    if (!o.isKnownPod(uid)) {
      if (synced) orphans.add(uid);
      continue;
    }
    const key = `${uid}/${c.labels[CONTAINER_NAME_LABEL] ?? c.metadata?.name ?? ''}`;
    let u = units.get(key);
    if (!u) units.set(key, (u = []));
    u.push(c);
  }
  for (const list of units.values()) {
    list.sort((a, b) => b.createdAt - a.createdAt);
    const dead = list.slice(1).filter((c) => c.state === 'CONTAINER_EXITED');
    for (const c of dead.slice(keep)) {
      try {
        await o.runtime.removeContainer(c.id);
        o.forgetContainer?.(c.id);
      } catch (err) {
        if (!isNotFound(err)) log.warn('removing a dead container failed', { id: c.id, err: (err as Error).message });
      }
    }
  }

  const byPod = new Map<string, typeof sandboxes>();
  for (const sb of sandboxes) {
    const uid = sb.labels[POD_UID_LABEL];
    if (!uid) continue;
    runtimeUids.add(uid);
    if (!o.isKnownPod(uid)) {
      if (synced) orphans.add(uid);
      continue;
    }
    let l = byPod.get(uid);
    if (!l) byPod.set(uid, (l = []));
    l.push(sb);
  }
  for (const list of byPod.values()) {
    list.sort((a, b) => b.createdAt - a.createdAt);
    for (const sb of list.slice(1)) {
      if (sb.state === 'SANDBOX_READY') continue;
      try {
        await o.runtime.removePodSandbox(sb.id);
      } catch (err) {
        if (!isNotFound(err)) log.warn('removing an old sandbox failed', { id: sb.id, err: (err as Error).message });
      }
    }
  }
  for (const uid of orphans) o.onOrphan(uid);

  if (!synced) return;
  // directories of pods neither bound here nor held by the runtime
  const gone = (uid: string): boolean => uid !== '' && !o.isKnownPod(uid) && !runtimeUids.has(uid);
  for (const [sub, uidOf] of [
    ['pods', (n: string) => n],
    ['logs', (n: string) => n.slice(n.lastIndexOf('_') + 1)],
  ] as const) {
    let names: string[] = [];
    try {
      names = readdirSync(join(o.root, sub));
    } catch {
      continue;
    }
    for (const n of names) if (gone(uidOf(n))) rmSync(join(o.root, sub, n), { recursive: true, force: true });
  }
}
