// DefaultPreemption's resource pre-check against the in-tree NodeResourcesFit: on random clusters
// with nominated pods, setting nodes aside changes neither the candidates nor, when there are none,
// the statuses the dry run reports.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../api/types/core_v1.ts';
import { CycleState } from './framework/cycle_state.ts';
import { Code } from './framework/interface.ts';
import { PodInfo } from './framework/pod_info.ts';
import { rng } from './framework/testing/random_cluster.ts';
import { makeNode, makePod, multiPoint, newTestFramework } from './framework/testing/wrappers.ts';
import { DefaultPreemption, Name } from './plugins/default_preemption/default_preemption.ts';
import { inTreeRegistry } from './plugins/registry.ts';

describe('DefaultPreemption dry run: nodes set aside by the resource check', () => {
  // The quick check only skips nodes NodeResourcesFit would reject anyway: with it and without it,
  // random clusters (with nominated pods) give the same candidates, and the same statuses when none.
  test('the same candidates and statuses as examining every node', () => {
    const random = rng(20261126);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    let emptyRounds = 0;
    for (let round = 0; round < 300; round++) {
      const nodes: Node[] = [];
      const pods: Pod[] = [];
      const nominated = new Map<string, PodInfo[]>();
      const nodeCount = 3 + Math.floor(random() * 10);
      for (let n = 0; n < nodeCount; n++) {
        const name = `n${n}`;
        nodes.push(makeNode().name(name).capacity({ cpu: pick(['2', '4']), memory: pick(['4Gi', '8Gi']), pods: pick(['3', '5', '110']) }).obj());
        const podCount = Math.floor(random() * 5);
        for (let k = 0; k < podCount; k++) {
          pods.push(makePod().name(`${name}-p${k}`).uid(`${name}-p${k}`).namespace('default').node(name).priority(Math.floor(random() * 4))
            .req({ cpu: pick(['0', '250m', '500m', '1']), memory: pick(['0', '512Mi', '1Gi', '2Gi']) }).obj());
        }
        if (random() < 0.3) {
          const nom = makePod().name(`${name}-nom`).uid(`${name}-nom`).namespace('default').priority(Math.floor(random() * 6))
            .req({ cpu: pick(['500m', '1', '2']), memory: pick(['512Mi', '2Gi']) }).obj();
          nominated.set(name, [new PodInfo(nom)]);
        }
      }
      const preemptor = makePod().name('pre').uid('pre').namespace('default').priority(2 + Math.floor(random() * 3))
        .req({ cpu: pick(['0', '500m', '1', '2', '3']), memory: pick(['0', '1Gi', '3Gi', '6Gi']) }).obj();
      const run = (quick: boolean) => {
        const { fwk, snapshot } = newTestFramework({
          registry: inTreeRegistry(), plugins: multiPoint('NodeResourcesFit', Name), nodes, pods,
          nominator: { nominatedPodsForNode: (node) => nominated.get(node) ?? [] },
        });
        const plugin = fwk.plugin(Name) as DefaultPreemption;
        if (!quick) plugin.cannotFitAfterEvictions = () => false;
        const state = new CycleState();
        fwk.runPreFilterPlugins(state, preemptor);
        // As in a cycle: only nodes the filters rejected as resolvable are worth a dry run.
        const potential = snapshot.nodeInfoList.filter((ni) => fwk.runFilterPluginsWithNominatedPods(state, preemptor, ni)?.code === Code.Unschedulable);
        const { candidates, statuses } = plugin.dryRunPreemption(state, preemptor, potential, [], 0, 100);
        const byNode: string[] = [];
        statuses.forEachExplicitNode((node, st) => byNode.push(`${node}: ${st.code} ${st.message()}`));
        return {
          candidates: candidates.map((c) => `${c.name}: ${c.victims.pods.map((p) => p.metadata?.name).join(',')}`),
          statuses: candidates.length === 0 ? byNode.sort() : [],
        };
      };
      const quick = run(true);
      assert.deepEqual(quick, run(false), `round ${round}`);
      if (quick.candidates.length === 0) emptyRounds++;
    }
    assert.ok(emptyRounds > 10 && emptyRounds < 290, `rounds without candidates: ${emptyRounds}`);
  });
});
