// The kubelet's status manager: keeps the latest status computed for each pod (with condition
// transition times and startTime carried over), writes it to pods/status as a merge patch when it
// changed, one write per pod at a time, retrying failures; and deletes finished pods (grace 0, UID).
import { setMaxListeners } from 'node:events';
import type { Pod, PodCondition, PodStatus } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { isConflict, isNotFound } from '../client/api_errors.ts';
import { formatTime, realClock, sleep, type Clock } from '../client/clock.ts';
import type { ResourceClient } from '../client/resource_client.ts';
import { KUBELET_CONDITIONS } from './pod_status.ts';

const log = logger('status-manager');

/** Options of StatusManager. */
export interface StatusManagerOptions {
  /** pods, across namespaces. */
  readonly pods: ResourceClient<Pod>;
  readonly clock?: Clock;
  /** Pause before retrying a failed write (default 1 s). */
  readonly retryMs?: number;
  /** The UID of the API pod a pod's status goes to (a static pod's mirror); undefined: nowhere yet. Default: the pod's own. */
  readonly apiUid?: (pod: Pod) => string | undefined;
}

interface Entry {
  pod: Pod;
  latest: PodStatus;
  /** JSON of the status last written. */
  written: string | undefined;
  dirty: boolean;
  writing: Promise<void> | undefined;
}

/** Carries condition transition times and startTime over from `old`. */
export function mergePodStatus(old: PodStatus | undefined, next: PodStatus, now: number): PodStatus {
  const ts = formatTime(now);
  const oldConds = new Map((old?.conditions ?? []).map((c) => [c.type, c]));
  const conditions = (next.conditions ?? []).map((c): PodCondition => {
    if (!KUBELET_CONDITIONS.has(c.type)) return c;
    const o = oldConds.get(c.type);
    const lastTransitionTime = o && o.status === c.status && o.lastTransitionTime ? o.lastTransitionTime : ts;
    return { ...c, lastTransitionTime };
  });
  return {
    ...next,
    conditions,
    startTime: old?.startTime ?? next.startTime ?? ts,
    ...(old?.qosClass ? { qosClass: old.qosClass } : {}),
  };
}

/** Writes pod statuses. */
export class StatusManager implements Disposable {
  readonly #pods: ResourceClient<Pod>;
  readonly #clock: Clock;
  readonly #retryMs: number;
  readonly #apiUid: ((pod: Pod) => string | undefined) | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #abort = new AbortController();

  constructor(opts: StatusManagerOptions) {
    this.#pods = opts.pods;
    this.#clock = opts.clock ?? realClock;
    this.#retryMs = opts.retryMs ?? 1000;
    this.#apiUid = opts.apiUid;
    // every write in flight listens on this one signal
    setMaxListeners(0, this.#abort.signal);
  }

  /** The latest status computed for the pod, if any. */
  latest(uid: string): PodStatus | undefined {
    return this.#entries.get(uid)?.latest;
  }

  /**
   * Records the pod's new status (merged with the previous one) and writes it if it changed; the
   * promise resolves once it is written (or the pod is gone).
   */
  setPodStatus(pod: Pod, status: PodStatus): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    let e = this.#entries.get(uid);
    const merged = mergePodStatus(e?.latest ?? pod.status, status, this.#clock.now());
    if (!e) {
      e = { pod, latest: merged, written: undefined, dirty: false, writing: undefined };
      this.#entries.set(uid, e);
      // what the API server already has needs no write
      if (pod.status && JSON.stringify(mergePodStatus(pod.status, pod.status, 0)) === JSON.stringify(merged)) e.written = JSON.stringify(merged);
    }
    e.pod = pod;
    e.latest = merged;
    if (JSON.stringify(merged) === e.written) return e.writing ?? Promise.resolve();
    e.dirty = true;
    return this.#kick(e);
  }

  #kick(e: Entry): Promise<void> {
    e.writing ??= this.#writeLoop(e).finally(() => { e.writing = undefined; });
    return e.writing;
  }

  async #writeLoop(e: Entry): Promise<void> {
    while (e.dirty && !this.#abort.signal.aborted) {
      e.dirty = false;
      const status = e.latest;
      const json = JSON.stringify(status);
      const md = e.pod.metadata ?? {};
      const uid = this.#apiUid ? this.#apiUid(e.pod) : md.uid;
      if (uid === undefined) {
        // a static pod without its mirror yet: written once the mirror exists and the pod syncs again
        e.written = undefined;
        return;
      }
      // the keys the server has that we no longer set must be cleared explicitly in a merge patch
      const patchStatus: Record<string, unknown> = { ...status };
      for (const k of Object.keys(e.pod.status ?? {})) if (!(k in patchStatus)) patchStatus[k] = null;
      try {
        await this.#pods.inNamespace(md.namespace ?? '').patchStatus(md.name ?? '', 'merge', { metadata: { uid }, status: patchStatus }, { signal: this.#abort.signal });
        e.written = json;
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        if (isNotFound(err) || isConflict(err)) {
          log.debug('pod went away before its status was written', { pod: `${md.namespace}/${md.name}` });
          return;
        }
        log.warn('writing the pod status failed; retrying', { pod: `${md.namespace}/${md.name}`, err: (err as Error).message });
        e.dirty = true;
        try {
          await sleep(this.#clock, this.#retryMs, this.#abort.signal);
        } catch {
          return;
        }
      }
    }
  }

  /** Deletes a pod whose containers have all stopped (gracePeriodSeconds 0, UID precondition). */
  async deletePod(pod: Pod): Promise<void> {
    const md = pod.metadata ?? {};
    try {
      await this.#pods.inNamespace(md.namespace ?? '').delete(md.name ?? '', {
        gracePeriodSeconds: 0, preconditions: { uid: md.uid ?? '' }, signal: this.#abort.signal,
      });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  /** Writes the pod's status again at its next setPodStatus (its API object was replaced). */
  rewrite(uid: string): void {
    const e = this.#entries.get(uid);
    if (e) e.written = undefined;
  }

  /** Forgets a pod that is gone. */
  forget(uid: string): void {
    this.#entries.delete(uid);
  }

  async dispose(): Promise<void> {
    this.#abort.abort();
    await Promise.all([...this.#entries.values()].map((e) => e.writing));
  }
}
