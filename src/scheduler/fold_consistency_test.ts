// The per-node sums InterPodAffinity and PodTopologySpread keep across cycles (framework/node_fold.ts)
// against a recount: a cache-fed snapshot goes through random pod and node changes, and after each
// round both plugins must decide and score exactly as a framework on a freshly built snapshot does.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../api/types/core_v1.ts';
import { Cache } from './cache/cache.ts';
import { Snapshot } from './cache/snapshot.ts';
import { CycleState } from './framework/cycle_state.ts';
import { Framework } from './framework/framework.ts';
import { MemoryListers } from './framework/listers.ts';
import { NodeFold } from './framework/node_fold.ts';
import type { NodeInfo } from './framework/node_info.ts';
import { PodInfo } from './framework/pod_info.ts';
import { rng } from './framework/testing/random_cluster.ts';
import { filterEach, makeNode, makePod, multiPoint } from './framework/testing/wrappers.ts';
import { Name as InterPodAffinityName, newInterPodAffinity } from './plugins/inter_pod_affinity/inter_pod_affinity.ts';
import { Name as PodTopologySpreadName, newPodTopologySpread } from './plugins/pod_topology_spread/pod_topology_spread.ts';

const registry = new Map([[InterPodAffinityName, newInterPodAffinity], [PodTopologySpreadName, newPodTopologySpread]]);
const plugins = multiPoint(InterPodAffinityName, PodTopologySpreadName);

function framework(snapshot: Snapshot, listers: MemoryListers): Framework {
  return new Framework(registry, { schedulerName: 'default-scheduler', plugins, pluginArgs: new Map(), percentageOfNodesToScore: null }, { snapshot, listers });
}

/** Filter verdicts and raw scores per node, as text. */
function decide(fwk: Framework, snapshot: Snapshot, pod: Pod): string {
  const f = filterEach(fwk, snapshot, pod);
  const out: string[] = [`pre ${f.pre === null ? 'ok' : `${f.pre.code}:${f.pre.reasons.join(',')}`}`];
  const byName = [...f.byNode].sort(([a], [b]) => a.localeCompare(b));
  for (const [n, s] of byName) out.push(`${n} ${s === null ? 'fit' : `${s.code}:${s.reasons.join(',')}`}`);
  const state = new CycleState();
  fwk.runPreFilterPlugins(state, pod);
  const nodes = [...snapshot.nodeInfoList].sort((a, b) => a.name.localeCompare(b.name));
  const pre = fwk.runPreScorePlugins(state, pod, nodes);
  if (pre === null || pre.isSuccess()) {
    const totals = fwk.runScorePlugins(state, pod, nodes);
    out.push(`scores ${nodes.map((n, i) => `${n.name}=${totals[i]}`).join(' ')}`);
  }
  return out.join('\n');
}

describe('per-node sums kept across cycles', () => {
  test('InterPodAffinity and PodTopologySpread decide as on a fresh snapshot after random changes', () => {
    const random = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const colors = ['red', 'green', 'blue'];
    const listers = new MemoryListers().add({ kind: 'Namespace', metadata: { name: 'a' } }, { kind: 'Namespace', metadata: { name: 'b' } });
    const nodes = new Map<string, Node>();
    const pods = new Map<string, Pod>();
    const cache = new Cache();
    const snapshot = new Snapshot();
    const fwk = framework(snapshot, listers);
    let serial = 0;
    const newNode = (): void => {
      const name = `n${serial++}`;
      const w = makeNode().name(name).label('zone', pick(['z1', 'z2', 'z3']));
      if (random() < 0.8) w.label('rack', pick(['r1', 'r2']));
      const n = w.obj();
      nodes.set(name, n);
      cache.addNode(n);
    };
    const newPod = (nodeName: string): Pod => {
      const name = `p${serial++}`;
      const w = makePod().name(name).uid(`${name}-uid`).namespace(pick(['a', 'b'])).labels({ color: pick(colors) });
      const r = random();
      if (r < 0.2) w.podAntiAffinity(pick(['zone', 'rack', 'kubernetes.io/hostname']), { color: pick(colors) });
      else if (r < 0.3) w.podAffinity(pick(['zone', 'rack']), { color: pick(colors) });
      else if (r < 0.45) w.podAffinity(pick(['zone', 'rack']), { color: pick(colors) }, 'preferred', 1 + Math.floor(random() * 5));
      else if (r < 0.55) w.podAntiAffinity('kubernetes.io/hostname', { color: pick(colors) }, 'preferred', 3);
      if (nodeName !== '') w.node(nodeName);
      return w.obj();
    };
    const incoming = (): Pod => {
      const w = makePod().name('incoming').uid('incoming-uid').namespace(pick(['a', 'b'])).labels({ color: pick(colors) });
      const r = random();
      if (r < 0.25) w.podAntiAffinity(pick(['zone', 'kubernetes.io/hostname']), { color: pick(colors) });
      else if (r < 0.4) w.podAffinity(pick(['zone', 'rack']), { color: pick(colors) });
      else if (r < 0.55) w.podAffinity('zone', { color: pick(colors) }, 'preferred', 2).podAntiAffinity('rack', { color: pick(colors) }, 'preferred', 1);
      if (random() < 0.5) w.spreadConstraint(1 + Math.floor(random() * 2), pick(['zone', 'rack', 'kubernetes.io/hostname']), pick(['DoNotSchedule', 'ScheduleAnyway'] as const), { color: pick(colors) });
      return w.obj();
    };
    for (let i = 0; i < 6; i++) newNode();
    for (let round = 0; round < 60; round++) {
      for (let k = 0; k < 3; k++) {
        const r = random();
        const names = [...nodes.keys()];
        if (r < 0.5 || pods.size === 0) {
          const p = newPod(pick(names));
          pods.set(p.metadata!.uid!, p);
          if (random() < 0.5) cache.assumePod(new PodInfo(p));
          else cache.addPod(p);
        } else if (r < 0.75) {
          const p = pick([...pods.values()]);
          pods.delete(p.metadata!.uid!);
          if (cache.isAssumedPod(p)) cache.forgetPod(p);
          else cache.removePod(p);
        } else if (r < 0.85) {
          const p = pick([...pods.values()]);
          if (cache.isAssumedPod(p)) continue;
          const relabeled: Pod = { ...p, metadata: { ...p.metadata, labels: { color: pick(colors) } } };
          cache.updatePod(p, relabeled);
          pods.set(p.metadata!.uid!, relabeled);
        } else if (r < 0.92 && nodes.size > 3) {
          const name = pick(names);
          if ([...pods.values()].some((p) => p.spec?.nodeName === name)) continue;
          cache.removeNode(nodes.get(name)!);
          nodes.delete(name);
        } else {
          newNode();
        }
      }
      cache.updateSnapshot(snapshot);
      const fresh = Snapshot.fromObjects([...pods.values()], [...snapshot.nodeInfoList].map((ni) => ni.node!));
      const pod = incoming();
      assert.equal(decide(fwk, snapshot, pod), decide(framework(fresh, listers), fresh, pod), `round ${round}`);
    }
  });

  test('a fold replays only the nodes changed since its last refresh', () => {
    class PodCount extends NodeFold<number> {
      total = 0;
      seen = 0;
      protected contribute(ni: NodeInfo): number | undefined {
        this.seen++;
        return ni.pods.length;
      }
      protected apply(c: number, sign: 1 | -1): void {
        this.total += sign * c;
      }
      protected reset(): void {
        this.total = 0;
      }
    }
    const cache = new Cache();
    const snapshot = new Snapshot();
    for (let i = 0; i < 10; i++) cache.addNode(makeNode().name(`n${i}`).obj());
    cache.updateSnapshot(snapshot);
    const fold = new PodCount();
    fold.refresh(snapshot, snapshot.nodeInfoList);
    assert.deepEqual([fold.total, fold.seen], [0, 10]);
    cache.addPod(makePod().name('a').uid('a').node('n3').obj());
    cache.addPod(makePod().name('b').uid('b').node('n3').obj());
    cache.updateSnapshot(snapshot);
    fold.refresh(snapshot, snapshot.nodeInfoList);
    assert.deepEqual([fold.total, fold.seen], [2, 11]);
    // A new node starts a new epoch: everything is counted again.
    cache.addNode(makeNode().name('n10').obj());
    cache.updateSnapshot(snapshot);
    fold.refresh(snapshot, snapshot.nodeInfoList);
    assert.deepEqual([fold.total, fold.seen], [2, 22]);
  });
});
