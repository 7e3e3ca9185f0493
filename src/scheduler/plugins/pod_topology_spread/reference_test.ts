// PodTopologySpread's fast paths (per-node match counts memoized on NodeInfo, per-domain totals kept
// across cycles) against a plain recount written from upstream's filtering.go and scoring.go, on
// seeded random clusters that change between cycles through the scheduler cache.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { matches, type Selector } from '../../../api/labels.ts';
import type { Node, Pod, Taint, TopologySpreadConstraint } from '../../../api/types/core_v1.ts';
import { MemoryListers } from '../../framework/listers.ts';
import { RequiredNodeAffinity } from '../../framework/node_affinity.ts';
import type { NodeInfo } from '../../framework/node_info.ts';
import { PodInfo } from '../../framework/pod_info.ts';
import { findMatchingUntoleratedTaint, isDoNotScheduleTaint } from '../../framework/taints.ts';
import { RandomCluster, checkCycles } from '../../framework/testing/random_cluster.ts';
import { makeNode, makePod, multiPoint, type PodWrapper } from '../../framework/testing/wrappers.ts';
import {
  LabelHostname,
  LabelTopologyZone,
  defaultSelector,
  filterTopologySpreadConstraints,
  systemDefaultConstraints,
  type SpreadConstraint,
} from './common.ts';
import { ErrReasonConstraintsNotMatch, ErrReasonNodeLabelNotMatch, Name, newPodTopologySpread, type PodTopologySpreadArgs } from './pod_topology_spread.ts';

// ---- the reference: upstream's algorithm with every count taken from scratch ----

function refCount(ni: NodeInfo, selector: Selector, namespace: string): number {
  let n = 0;
  for (const p of ni.pods) {
    if (p.pod.metadata?.deletionTimestamp || (p.pod.metadata?.namespace ?? '') !== namespace) continue;
    if (matches(selector, p.pod.metadata?.labels)) n++;
  }
  return n;
}

function refIncluded(c: SpreadConstraint, pod: Pod, ni: NodeInfo): boolean {
  if (c.nodeAffinityPolicy === 'Honor' && !new RequiredNodeAffinity(pod).match(ni)) return false;
  if (c.nodeTaintsPolicy === 'Honor' && findMatchingUntoleratedTaint(ni.taints, pod.spec?.tolerations, isDoNotScheduleTaint) !== undefined) return false;
  return true;
}

function hasAllKeys(ni: NodeInfo, cs: readonly SpreadConstraint[]): boolean {
  return cs.every((c) => ni.labels[c.topologyKey] !== undefined);
}

function refConstraints(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway', defaults: readonly TopologySpreadConstraint[], listers: MemoryListers): SpreadConstraint[] {
  const own = pod.spec?.topologySpreadConstraints ?? [];
  const labels = pod.metadata?.labels ?? {};
  if (own.length > 0) return filterTopologySpreadConstraints(own, labels, action);
  const cs = filterTopologySpreadConstraints(defaults, labels, action);
  if (cs.length === 0) return cs;
  const sel = defaultSelector(pod, listers);
  if (!sel.nothing && sel.requirements.length === 0) return [];
  for (const c of cs) c.selector = sel;
  return cs;
}

/** Filter verdict per node ("fit" or "code:reason"). */
function refFilter(pod: Pod, all: readonly NodeInfo[], cs: readonly SpreadConstraint[]): string[] {
  if (cs.length === 0) return all.map(() => 'fit');
  const ns = pod.metadata?.namespace ?? '';
  const counts = cs.map(() => new Map<string, number>());
  for (const ni of all) {
    if (!hasAllKeys(ni, cs)) continue;
    cs.forEach((c, i) => {
      if (!refIncluded(c, pod, ni)) return;
      const v = ni.labels[c.topologyKey] as string;
      const m = counts[i] as Map<string, number>;
      m.set(v, (m.get(v) ?? 0) + refCount(ni, c.selector, ns));
    });
  }
  return all.map((ni) => {
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i] as SpreadConstraint;
      const m = counts[i] as Map<string, number>;
      const v = ni.labels[c.topologyKey];
      if (v === undefined) return `3:${ErrReasonNodeLabelNotMatch}`;
      const min = m.size < c.minDomains ? 0 : Math.min(...m.values());
      const self = matches(c.selector, pod.metadata?.labels) ? 1 : 0;
      if ((m.get(v) ?? 0) + self - min > c.maxSkew) return `2:${ErrReasonConstraintsNotMatch}`;
    }
    return 'fit';
  });
}

/** Normalized scores of the filtered nodes (all 0 when the plugin skips). */
function refScore(pod: Pod, filtered: readonly NodeInfo[], all: readonly NodeInfo[], cs: readonly SpreadConstraint[], requireAll: boolean): number[] {
  if (cs.length === 0) return filtered.map(() => 0);
  const ns = pod.metadata?.namespace ?? '';
  const ignored = new Set<string>();
  const tp = cs.map(() => new Map<string, number>());
  for (const ni of filtered) {
    if (requireAll && !hasAllKeys(ni, cs)) {
      ignored.add(ni.name);
      continue;
    }
    cs.forEach((c, i) => {
      if (c.topologyKey !== LabelHostname) (tp[i] as Map<string, number>).set(ni.labels[c.topologyKey] ?? '', 0);
    });
  }
  const weights = cs.map((c, i) => Math.log((c.topologyKey === LabelHostname ? filtered.length - ignored.size : (tp[i] as Map<string, number>).size) + 2));
  for (const ni of all) {
    if (requireAll && !hasAllKeys(ni, cs)) continue;
    cs.forEach((c, i) => {
      if (!refIncluded(c, pod, ni)) return;
      const m = tp[i] as Map<string, number>;
      const v = ni.labels[c.topologyKey] ?? '';
      if (!m.has(v)) return;
      m.set(v, (m.get(v) as number) + refCount(ni, c.selector, ns));
    });
  }
  const raw = filtered.map((ni) => {
    if (ignored.has(ni.name)) return 0;
    let s = 0;
    cs.forEach((c, i) => {
      const v = ni.labels[c.topologyKey];
      if (v === undefined) return;
      const cnt = c.topologyKey === LabelHostname ? refCount(ni, c.selector, ns) : ((tp[i] as Map<string, number>).get(v) as number);
      s += cnt * (weights[i] as number) + (c.maxSkew - 1);
    });
    return Math.round(s);
  });
  let min = Number.MAX_SAFE_INTEGER;
  let max = 0;
  filtered.forEach((ni, i) => {
    if (ignored.has(ni.name)) return;
    min = Math.min(min, raw[i] as number);
    max = Math.max(max, raw[i] as number);
  });
  return filtered.map((ni, i) => {
    if (ignored.has(ni.name)) return 0;
    if (max === 0) return 100;
    return Math.trunc((100 * (max + min - (raw[i] as number))) / max);
  });
}

// ---- the random cluster ----

const zones = ['z1', 'z2', 'z3'];
const colors = ['red', 'green', 'blue'];
const listDefaults: TopologySpreadConstraint[] = [
  { maxSkew: 1, topologyKey: LabelTopologyZone, whenUnsatisfiable: 'DoNotSchedule' },
  { maxSkew: 2, topologyKey: LabelHostname, whenUnsatisfiable: 'ScheduleAnyway' },
  { maxSkew: 1, topologyKey: 'rack', whenUnsatisfiable: 'ScheduleAnyway' },
];

class World extends RandomCluster {
  constructor(seed: number) {
    const listers = new MemoryListers().add({ kind: 'Namespace', metadata: { name: 'ns1' } }, { kind: 'Namespace', metadata: { name: 'ns2' } });
    for (const ns of ['ns1', 'ns2']) {
      listers.add({ kind: 'ReplicaSet', metadata: { name: 'rs-a', namespace: ns }, spec: { selector: { matchLabels: { app: 'a' } } } } as never);
    }
    listers.add({ kind: 'Service', metadata: { name: 'svc', namespace: 'ns1' }, spec: { selector: { app: 'a', color: 'red' } } } as never);
    super(seed, listers, ['ns1', 'ns2'], { addPod: 0.45, removePod: 0.65, relabelPod: 0.8, replaceNode: 0.88, removeNode: 0.94 });
  }

  nodeObject(name: string): Node {
    const w = makeNode().name(name);
    // Now and then two nodes share a hostname label: Score still counts per node.
    if (this.chance(0.9)) w.label(LabelHostname, this.chance(0.05) ? 'shared' : name);
    if (this.chance(0.8)) w.label(LabelTopologyZone, this.pick(zones));
    if (this.chance(0.7)) w.label('rack', this.pick(['r1', 'r2']));
    w.label('disk', this.pick(['ssd', 'hdd']));
    if (this.chance(0.2)) w.taint({ key: 'dedicated', value: 'x', effect: this.pick(['NoSchedule', 'NoExecute', 'PreferNoSchedule']) } as Taint);
    return w.obj();
  }

  podLabels(): Record<string, string> {
    const l: Record<string, string> = { color: this.pick(colors) };
    if (this.chance(0.6)) l['app'] = this.pick(['a', 'b']);
    if (this.chance(0.5)) l['tier'] = this.pick(['web', 'db']);
    return l;
  }

  protected decoratePod(w: PodWrapper): void {
    if (this.chance(0.1)) w.terminating();
  }

  /** Besides new labels, an update now and then starts the pod's termination. */
  protected override relabeled(p: Pod): Pod {
    const q = super.relabeled(p);
    if (this.chance(0.2)) q.metadata!.deletionTimestamp = '2024-01-01T00:00:00Z';
    return q;
  }

  constraint(): TopologySpreadConstraint {
    const when = this.pick(['DoNotSchedule', 'ScheduleAnyway'] as const);
    const c: TopologySpreadConstraint = {
      maxSkew: 1 + Math.floor(this.random() * 3),
      topologyKey: this.pick([LabelHostname, LabelTopologyZone, 'rack']),
      whenUnsatisfiable: when,
    };
    const sel = this.random();
    if (sel < 0.4) c.labelSelector = { matchLabels: { color: this.pick(colors) } };
    else if (sel < 0.6) c.labelSelector = { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] };
    else if (sel < 0.75) c.labelSelector = { matchExpressions: [{ key: 'color', operator: 'Exists' }] };
    else if (sel < 0.9) c.labelSelector = {};
    if (when === 'DoNotSchedule' && this.chance(0.3)) c.minDomains = 1 + Math.floor(this.random() * 4);
    if (this.chance(0.5)) c.nodeAffinityPolicy = this.pick(['Honor', 'Ignore']);
    if (this.chance(0.5)) c.nodeTaintsPolicy = this.pick(['Honor', 'Ignore']);
    if (this.chance(0.25)) c.matchLabelKeys = ['tier'];
    return c;
  }

  /**
   * Constraint sets that recur, alike but for their inclusion policies, so pods with different
   * affinity and tolerations meet the same cached totals.
   */
  private templates: TopologySpreadConstraint[][] | null = null;

  template(): TopologySpreadConstraint[] {
    if (this.templates === null) {
      this.templates = [];
      for (let b = 0; b < 2; b++) {
        const base = Array.from({ length: 1 + b }, () => this.constraint());
        type Policies = readonly [('Honor' | 'Ignore' | undefined), ('Honor' | 'Ignore' | undefined)];
        const same = (p: Policies): Policies[] => base.map(() => p);
        // Per constraint (affinity, taints) policies; the last two differ only in which constraint honours taints.
        const variants: Policies[][] = [same([undefined, undefined]), same(['Honor', 'Honor']), same(['Ignore', 'Ignore']), same(['Ignore', 'Honor'])];
        if (base.length === 2) variants.push([[undefined, 'Honor'], [undefined, 'Ignore']], [[undefined, 'Ignore'], [undefined, 'Honor']]);
        for (const policies of variants) {
          this.templates.push(base.map((c, i) => {
            const [a, t] = policies[i] as Policies;
            const v: TopologySpreadConstraint = { ...c };
            delete v.nodeAffinityPolicy;
            delete v.nodeTaintsPolicy;
            if (a !== undefined) v.nodeAffinityPolicy = a;
            if (t !== undefined) v.nodeTaintsPolicy = t;
            return v;
          }));
        }
      }
    }
    return structuredClone(this.pick(this.templates));
  }

  incoming(): Pod {
    const w = makePod().name('incoming').uid('incoming-uid').namespace(this.chance(0.8) ? 'ns1' : 'ns2').labels(this.podLabels());
    if (this.chance(0.5)) {
      w.pod.spec!.topologySpreadConstraints = this.template();
    } else if (this.chance(0.4)) {
      const n = 1 + Math.floor(this.random() * 2);
      for (let i = 0; i < n; i++) (w.pod.spec!.topologySpreadConstraints ??= []).push(this.constraint());
    } else if (this.chance(0.8)) {
      w.label('app', 'a');
      w.pod.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs-a', uid: 'rs-a-uid', controller: true }];
    }
    const r = this.random();
    if (r < 0.25) w.nodeSelector({ disk: 'ssd' });
    else if (r < 0.4) w.nodeAffinityIn(LabelTopologyZone, ['z1', 'z2']);
    if (this.chance(0.3)) w.toleration({ key: 'dedicated', operator: 'Exists' });
    return w.obj();
  }
}

describe('PodTopologySpread fast paths match a plain recount', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    test(`random cluster changing between cycles, seed ${seed}`, () => {
      const w = new World(seed);
      const registry = new Map([[Name, newPodTopologySpread]]);
      const configs: Array<{ args: PodTopologySpreadArgs; defaults: readonly TopologySpreadConstraint[]; system: boolean }> = [
        { args: {}, defaults: systemDefaultConstraints, system: true },
        { args: { defaultingType: 'List', defaultConstraints: listDefaults }, defaults: listDefaults, system: false },
      ];
      const variants = configs.map((v) => ({ ...v, fwk: w.cluster.framework(registry, multiPoint(Name), new Map([[Name, v.args]])) }));
      let checked = 0;
      checkCycles(w, 120, variants, ({ round, variant: v, pod, all, filtered, got }) => {
        const hard = refConstraints(pod, 'DoNotSchedule', v.defaults, w.cluster.listers);
        const soft = refConstraints(pod, 'ScheduleAnyway', v.defaults, w.cluster.listers);
        const requireAll = (pod.spec?.topologySpreadConstraints ?? []).length > 0 || !v.system;
        const ctx = `seed ${seed} round ${round} pod ${JSON.stringify(pod)}`;
        assert.deepEqual(got.filter, refFilter(pod, all, hard), `filter, ${ctx}`);
        assert.deepEqual(got.scores, refScore(pod, filtered, all, soft, requireAll), `scores, ${ctx}`);
        if (hard.length > 0 || soft.length > 0) checked++;
      });
      // The cases must mostly exercise the plugin, not its Skip paths.
      assert.ok(checked > 150, `only ${checked} cycles had constraints`);
    });
  }
});
