// Taints and tolerations as the node lifecycle and taint eviction controllers use them (upstream
// pkg/util/taints and v1helper): the controller's taint templates, matching a toleration against a
// taint, and adding/removing taints on a node through the API with optimistic concurrency.
import type { Node, Taint, Toleration } from '../../api/types/core_v1.ts';
import { isConflict } from '../../client/api_errors.ts';
import { formatTime, type Clock } from '../../client/clock.ts';
import type { ResourceClient } from '../../client/resource_client.ts';

/** Taint keys of node conditions (v1.TaintNode*). */
export const TaintKey = {
  NotReady: 'node.kubernetes.io/not-ready',
  Unreachable: 'node.kubernetes.io/unreachable',
  Unschedulable: 'node.kubernetes.io/unschedulable',
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  NetworkUnavailable: 'node.kubernetes.io/network-unavailable',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
} as const;

/** The NoExecute taint of a node whose Ready condition is Unknown. */
export const UNREACHABLE_TAINT: Taint = { key: TaintKey.Unreachable, effect: 'NoExecute' };
/** The NoExecute taint of a node whose Ready condition is False. */
export const NOT_READY_TAINT: Taint = { key: TaintKey.NotReady, effect: 'NoExecute' };

/** Which NoSchedule taint each node condition status maps to (nodeConditionToTaintKeyStatusMap). */
export const CONDITION_TAINTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Ready: { False: TaintKey.NotReady, Unknown: TaintKey.Unreachable },
  MemoryPressure: { True: TaintKey.MemoryPressure },
  DiskPressure: { True: TaintKey.DiskPressure },
  NetworkUnavailable: { True: TaintKey.NetworkUnavailable },
  PIDPressure: { True: TaintKey.PIDPressure },
};

/** True when the taints match by key and effect (Taint.MatchTaint). */
export function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

/** True when `taints` contain one matching `t`. */
export function taintExists(taints: readonly Taint[] | undefined, t: Taint): boolean {
  return (taints ?? []).some((x) => sameTaint(x, t));
}

/** Toleration.ToleratesTaint. */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  switch (tol.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (tol.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** Whether every taint is tolerated, and the tolerations used (v1helper.GetMatchingTolerations). */
export function matchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[]): { all: boolean; used: Toleration[] } {
  if (taints.length === 0) return { all: true, used: [] };
  if (tolerations.length === 0) return { all: false, used: [] };
  const used: Toleration[] = [];
  for (const taint of taints) {
    const tol = tolerations.find((t) => toleratesTaint(t, taint));
    if (!tol) return { all: false, used: [] };
    used.push(tol);
  }
  return { all: true, used };
}

/** Shortest tolerationSeconds in ms (<= 0 counts as 0), or -1 when every toleration lasts forever. */
export function minTolerationMs(tolerations: readonly Toleration[]): number {
  let min = -1;
  for (const t of tolerations) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    const ms = Math.max(0, t.tolerationSeconds) * 1000;
    if (min < 0 || ms < min) min = ms;
  }
  return min;
}

/**
 * Adds `add` (stamped with timeAdded) and removes `remove` on node `name` with a patch, re-reading
 * the node on conflicts (controller.AddOrUpdateTaintOnNode + RemoveTaintOffNode). Returns the written node,
 * or undefined when nothing had to change.
 */
export async function swapNodeTaints(nodes: ResourceClient<Node>, name: string, add: readonly Taint[], remove: readonly Taint[], clock: Clock): Promise<Node | undefined> {
  for (let attempt = 0; ; attempt++) {
    // The first read may come from the API server's cache, as upstream's; a conflict reads afresh.
    const node = await nodes.get(name, attempt === 0 ? { resourceVersion: '0' } : {});
    const current = node.spec?.taints ?? [];
    let next = current.filter((t) => !remove.some((r) => sameTaint(r, t)));
    let changed = next.length !== current.length;
    for (const t of add) {
      const existing = next.find((x) => sameTaint(x, t));
      if (existing && (existing.value ?? '') === (t.value ?? '')) continue;
      next = next.filter((x) => !sameTaint(x, t));
      // Upstream stamps every taint the controller adds, whatever its effect.
      const stamped: Taint = { ...t, timeAdded: formatTime(clock.now()) };
      next.push(stamped);
      changed = true;
    }
    if (!changed) return undefined;
    // Upstream's PatchNodeTaints: the taint list (it has no merge key, so it is replaced whole) and
    // the resourceVersion it was computed from, which makes the patch fail on a concurrent change.
    const patch = { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints: next.length > 0 ? next : null } };
    try {
      return await nodes.patch(name, 'strategic', patch);
    } catch (err) {
      if (isConflict(err) && attempt < 5) continue;
      throw err;
    }
  }
}
