// The StatefulSet update algorithm (upstream stateful_set_control.go): resolve current and update
// revisions, create missing pods in ordinal order (one at a time unless Parallel), wait for
// predecessors to be Running and Ready, scale down from the highest ordinal, roll pods to the update
// revision from the highest ordinal down to the partition, write status, and truncate history.
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from '../../api/types/apps_v1.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import { isNotFound } from '../../client/api_errors.ts';
import { equalRevision, findEqualRevisions, nextRevision, sortControllerRevisions, type ControllerHistory } from '../controller_history.ts';
import type { StatefulPodControl } from './stateful_pod_control.ts';
import {
  allowsBurst, applyRevision, completeRollingUpdate, computeReplicaStatus, getEndOrdinal, getOrdinal, getPodRevision, getStartOrdinal,
  identityMatches, inconsistentStatus, isCreated, isFailed, isHealthy, isPending, isRunningAndAvailable, isRunningAndReady, isSucceeded,
  isTerminating, newRevision, newVersionedStatefulSetPod, podInOrdinalRange, replicasOf, storageMatches,
} from './stateful_set_utils.ts';

/** What the control needs besides pod control. */
export interface StatefulSetControlDeps {
  readonly podControl: StatefulPodControl;
  readonly history: Pick<ControllerHistory, 'createControllerRevision' | 'updateControllerRevision' | 'deleteControllerRevision'>;
  /** The set's revisions (owned, matching its selector). */
  readonly listRevisions: (set: StatefulSet) => ControllerRevision[];
  /** Writes the status (retrying conflicts). */
  readonly updateStatus: (set: StatefulSet, status: StatefulSetStatus) => Promise<void>;
  readonly now: () => number;
}

interface Ctx {
  set: StatefulSet;
  currentRevision: ControllerRevision;
  updateRevision: ControllerRevision;
  currentSet: StatefulSet;
  updateSet: StatefulSet;
  monotonic: boolean;
  now: number;
}

/** Runs `fn` over pods: in order stopping at the first "exit" when monotonic, else all at once. */
async function runForAll(pods: readonly Pod[], fn: (i: number) => Promise<boolean>, monotonic: boolean): Promise<boolean> {
  if (monotonic) {
    for (let i = 0; i < pods.length; i++) if (await fn(i)) return true;
    return false;
  }
  // Parallel: slow start (1, 2, 4 …); the first batch with an error stops the rest.
  let remaining = pods.length;
  let next = 0;
  for (let batch = Math.min(remaining, 1); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const idx = Array.from({ length: batch }, (_, k) => next + k);
    next += batch;
    const results = await Promise.allSettled(idx.map((i) => fn(i)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    remaining -= batch;
  }
  return false;
}

/** StatefulSetControlInterface: one pass of the algorithm for one set. */
export class StatefulSetControl {
  #d: StatefulSetControlDeps;

  constructor(deps: StatefulSetControlDeps) {
    this.#d = deps;
  }

  /** Reconciles `pods` with `set`; returns the status written. */
  async updateStatefulSet(setIn: StatefulSet, pods: readonly Pod[]): Promise<StatefulSetStatus> {
    const set = structuredClone(setIn);
    const revisions = sortControllerRevisions(this.#d.listRevisions(set));
    const { currentRevision, updateRevision, collisionCount } = await this.#getStatefulSetRevisions(set, revisions);
    let status: StatefulSetStatus | undefined;
    let err: unknown;
    try {
      status = await this.#update(set, currentRevision, updateRevision, collisionCount, pods);
    } catch (e) {
      err = e;
      const failed = (e as { status?: StatefulSetStatus }).status;
      if (failed) status = failed;
    }
    let statusErr: unknown;
    if (status) {
      completeRollingUpdate(set, status);
      if (inconsistentStatus(set, status)) {
        try {
          await this.#d.updateStatus(set, status);
        } catch (e) {
          statusErr = e;
        }
      }
    }
    await this.#truncateHistory(set, pods, revisions, currentRevision, updateRevision);
    if (err !== undefined) throw err;
    if (statusErr !== undefined) throw statusErr;
    return status!;
  }

  async #getStatefulSetRevisions(set: StatefulSet, revisions: ControllerRevision[]): Promise<{ currentRevision: ControllerRevision; updateRevision: ControllerRevision; collisionCount: number }> {
    let collisionCount = set.status?.collisionCount ?? 0;
    let updateRevision = newRevision(set, nextRevision(revisions), collisionCount);
    const equal = findEqualRevisions(revisions, updateRevision);
    const last = revisions[revisions.length - 1];
    if (equal.length > 0 && equalRevision(last, equal[equal.length - 1])) {
      updateRevision = last!;
    } else if (equal.length > 0) {
      // Rolling back to an older template: renumber that revision instead of making a twin.
      updateRevision = await this.#d.history.updateControllerRevision(equal[equal.length - 1]!, updateRevision.revision);
    } else {
      const r = await this.#d.history.createControllerRevision(set, updateRevision, collisionCount);
      updateRevision = r.revision;
      collisionCount = r.collisionCount;
    }
    const currentRevision = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? updateRevision;
    return { currentRevision, updateRevision, collisionCount };
  }

  async #update(set: StatefulSet, currentRevision: ControllerRevision, updateRevision: ControllerRevision, collisionCount: number, pods: readonly Pod[]): Promise<StatefulSetStatus> {
    const now = this.#d.now();
    const c: Ctx = {
      set, currentRevision, updateRevision,
      currentSet: applyRevision(set, currentRevision),
      updateSet: applyRevision(set, updateRevision),
      monotonic: !allowsBurst(set),
      now,
    };
    const minReady = set.spec?.minReadySeconds ?? 0;
    const status: StatefulSetStatus = {
      observedGeneration: set.metadata?.generation ?? 0,
      currentRevision: currentRevision.metadata!.name!,
      updateRevision: updateRevision.metadata!.name!,
      collisionCount,
      replicas: 0,
    };
    if (set.status?.conditions) status.conditions = set.status.conditions;
    const fillStatus = (...lists: readonly Pod[][]): void => {
      Object.assign(status, { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 });
      for (const l of lists) {
        const s = computeReplicaStatus(l, minReady, status.currentRevision!, status.updateRevision!, now);
        status.replicas += s.replicas;
        status.readyReplicas! += s.readyReplicas ?? 0;
        status.availableReplicas! += s.availableReplicas ?? 0;
        status.currentReplicas! += s.currentReplicas ?? 0;
        status.updatedReplicas! += s.updatedReplicas ?? 0;
      }
    };
    fillStatus([...pods]);

    const start = getStartOrdinal(set);
    const replicas: (Pod | undefined)[] = new Array(replicasOf(set)).fill(undefined);
    const condemned: Pod[] = [];
    for (const pod of pods) {
      if (podInOrdinalRange(pod, set)) replicas[getOrdinal(pod) - start] = pod;
      else if (getOrdinal(pod) >= 0) condemned.push(pod);
    }
    for (let ord = start; ord <= getEndOrdinal(set); ord++) {
      if (!replicas[ord - start]) replicas[ord - start] = newVersionedStatefulSetPod(c.currentSet, c.updateSet, currentRevision.metadata!.name!, updateRevision.metadata!.name!, ord);
    }
    const live = replicas as Pod[];
    condemned.sort((a, b) => getOrdinal(b) - getOrdinal(a));
    let firstUnhealthy: Pod | undefined;
    for (const p of live) if (!isHealthy(p)) { firstUnhealthy ??= p; }
    for (let i = condemned.length - 1; i >= 0; i--) if (!isHealthy(condemned[i]!)) { firstUnhealthy ??= condemned[i]; }

    if (set.metadata?.deletionTimestamp) return status;

    const withStatus = async (fn: () => Promise<boolean>): Promise<boolean> => {
      try {
        return await fn();
      } catch (err) {
        fillStatus(live, condemned);
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), { status });
      }
    };
    if (await withStatus(() => runForAll(live, (i) => this.#processReplica(c, live, i), c.monotonic))) {
      fillStatus(live, condemned);
      return status;
    }
    const fixClaims = async (i: number): Promise<boolean> => {
      if (!this.#d.podControl.claimsMatchRetentionPolicy(c.updateSet, condemned[i]!)) await this.#d.podControl.updatePodClaimForRetentionPolicy(c.updateSet, condemned[i]!);
      return false;
    };
    if (await withStatus(() => runForAll(condemned, fixClaims, c.monotonic))) {
      fillStatus(live, condemned);
      return status;
    }
    if (await withStatus(() => runForAll(condemned, (i) => this.#processCondemned(c, firstUnhealthy, condemned, i), c.monotonic))) {
      fillStatus(live, condemned);
      return status;
    }
    fillStatus(live, condemned);
    if (set.spec?.updateStrategy?.type === 'OnDelete') return status;

    const updateMin = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let target = live.length - 1; target >= updateMin; target--) {
      const pod = live[target]!;
      if (getPodRevision(pod) !== updateRevision.metadata!.name && !isTerminating(pod)) {
        try {
          await this.#d.podControl.deleteStatefulPod(set, pod);
        } catch (err) {
          if (!isNotFound(err)) throw Object.assign(err instanceof Error ? err : new Error(String(err)), { status });
        }
        status.currentReplicas = (status.currentReplicas ?? 0) - 1;
        return status;
      }
      if (!isHealthy(pod)) return status;
    }
    return status;
  }

  /** One in-range replica; true means "stop here for this pass". */
  async #processReplica(c: Ctx, replicas: Pod[], i: number): Promise<boolean> {
    const pc = this.#d.podControl;
    const pod = replicas[i]!;
    // Finished pods (Failed, or Succeeded after an eviction) are deleted and recreated.
    if (isFailed(pod) || isSucceeded(pod)) {
      if (!pod.metadata?.deletionTimestamp) await pc.deleteStatefulPod(c.set, pod);
      return true;
    }
    if (!isCreated(pod)) {
      if (pc.podClaimIsStale(c.set, pod)) return true;
      await pc.createStatefulPod(c.set, pod);
      if (c.monotonic) return true;
    }
    if (isPending(pod)) await pc.createMissingPersistentVolumeClaims(c.set, pod);
    if (isTerminating(pod) && c.monotonic) return true;
    if (!isRunningAndReady(pod) && c.monotonic) return true;
    if (!isRunningAndAvailable(pod, c.set.spec?.minReadySeconds ?? 0, c.now) && c.monotonic) return true;
    const retentionMatch = pc.claimsMatchRetentionPolicy(c.updateSet, pod);
    if (identityMatches(c.set, pod) && storageMatches(c.set, pod) && retentionMatch) return false;
    await pc.updateStatefulPod(c.updateSet, pod);
    return false;
  }

  /** One condemned pod (highest ordinal first); true means "stop here for this pass". */
  async #processCondemned(c: Ctx, firstUnhealthy: Pod | undefined, condemned: Pod[], i: number): Promise<boolean> {
    const pod = condemned[i]!;
    if (isTerminating(pod)) return c.monotonic;
    if (!isRunningAndReady(pod) && c.monotonic && pod !== firstUnhealthy) return true;
    if (!isRunningAndAvailable(pod, c.set.spec?.minReadySeconds ?? 0, c.now) && c.monotonic && pod !== firstUnhealthy) return true;
    await this.#d.podControl.deleteStatefulPod(c.set, pod);
    return true;
  }

  async #truncateHistory(set: StatefulSet, pods: readonly Pod[], revisions: readonly ControllerRevision[], current: ControllerRevision, update: ControllerRevision): Promise<void> {
    const live = new Set<string>([current.metadata?.name ?? '', update.metadata?.name ?? '']);
    for (const p of pods) live.add(getPodRevision(p));
    const history = revisions.filter((r) => !live.has(r.metadata?.name ?? ''));
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    if (history.length <= limit) return;
    for (const r of history.slice(0, history.length - limit)) {
      try {
        await this.#d.history.deleteControllerRevision(r);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}
