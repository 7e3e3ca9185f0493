// NodeResourcesBalancedAllocation against upstream's TestNodeResourcesBalancedAllocation table.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../../api/types/core_v1.ts';
import { makeNode, makePod, multiPoint, newTestFramework, scoreEach } from '../../framework/testing/wrappers.ts';
import { Name, balancedResourceScorer, newBalancedAllocation } from './node_resources_balanced_allocation.ts';

describe('NodeResourcesBalancedAllocation Score', () => {
  const cpuAndMemory = () => makePod().req({ cpu: '1000m', memory: '2000' }).req({ cpu: '2000m', memory: '3000' });
  const cases: Array<{ name: string; pod: Pod; nodes: Array<[string, string]>; existing: Array<[number, string, string]>; want: number[] }> = [
    // Fractions 0 and 0: std 0.
    { name: 'nothing scheduled, nothing requested', pod: makePod().obj(), nodes: [['4', '10000'], ['4', '10000']], existing: [], want: [100, 100] },
    // node1: 3000/4000=0.75, 5000/10000=0.5 -> std 0.125 -> 87; node2: 0.5, 0.5 -> 100.
    { name: 'nothing scheduled, resources requested, differently sized nodes', pod: cpuAndMemory().obj(), nodes: [['4', '10000'], ['6', '10000']], existing: [], want: [87, 100] },
    // node1: 6000/10000=0.6, 5000/20000=0.25 -> std 0.175 -> 82; node2: 0.6, 10000/20000=0.5 -> 95.
    { name: 'resources requested, pods scheduled with resources', pod: cpuAndMemory().obj(), nodes: [['10', '20000'], ['10', '20000']], existing: [[1, '3', '0'], [2, '3', '5000']], want: [82, 95] },
    // node1: 6000/10000=0.6, 5000/20000=0.25 -> 82; node2: 0.6, 10000/50000=0.2 -> std 0.2 -> 80.
    { name: 'resources requested, differently sized nodes', pod: cpuAndMemory().obj(), nodes: [['10', '20000'], ['10', '50000']], existing: [[1, '3', '0'], [2, '3', '5000']], want: [82, 80] },
    // Over capacity the fraction is capped at 1: node1 cpu 1, mem 0 -> 50; node2 cpu 1, mem 0.5 -> 75.
    { name: 'requested resources exceed node capacity', pod: makePod().req({ cpu: '3', memory: '0' }).obj(), nodes: [['4', '10000'], ['4', '10000']], existing: [[1, '3', '0'], [2, '3', '5000']], want: [50, 75] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const nodes = c.nodes.map(([cpu, mem], i) => makeNode().name(`node${i + 1}`).capacity({ cpu, memory: mem }).obj());
      const existing = c.existing.map(([i, cpu, mem]) => makePod().node(`node${i}`).req({ cpu, memory: mem }).obj());
      const { fwk, snapshot } = newTestFramework({ registry: new Map([[Name, newBalancedAllocation]]), plugins: multiPoint(Name), nodes, pods: existing });
      const scores = scoreEach(fwk, snapshot, c.pod);
      assert.deepEqual(nodes.map((n) => scores.get(n.metadata!.name!)), c.want);
    });
  }

  test('three resources use the standard deviation of all fractions', () => {
    // fractions 0.2, 0.4, 0.6: mean 0.4, std sqrt(0.08/3) = 0.163 -> 83.
    assert.equal(balancedResourceScorer(new Float64Array([2, 4, 6]), new Float64Array([10, 10, 10])), 83);
  });
});
