// NodeResourcesFit against upstream's TestEnoughRequests (Filter) and the LeastAllocated,
// MostAllocated and RequestedToCapacityRatio scoring tables.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../../api/types/core_v1.ts';
import { Code } from '../../framework/interface.ts';
import { filterEach, makeNode, makePod, multiPoint, newTestFramework, scoreEach, type PodWrapper } from '../../framework/testing/wrappers.ts';
import { Name, newNodeResourcesFit, type NodeResourcesFitArgs } from './node_resources_fit.ts';

const registry = new Map([[Name, newNodeResourcesFit]]);
const extended = 'example.com/aaa';

function reqPod(cpuMilli: number, mem: number): PodWrapper {
  return makePod().req({ cpu: `${cpuMilli}m`, memory: String(mem) });
}

describe('NodeResourcesFit Filter', () => {
  // The node: 10m cpu, 20 bytes of memory, 32 pods, 5 of an extended resource.
  const node = () => makeNode().name('n').capacity({ cpu: '10m', memory: '20', pods: '32', [extended]: '5' }).obj();
  const cases: Array<{ name: string; pod: Pod; existing: Pod[]; want: string[] | null; nodePods?: string }> = [
    { name: 'no resources requested always fits', pod: makePod().obj(), existing: [reqPod(10, 20).node('n').obj()], want: null },
    { name: 'too many resources fails', pod: reqPod(1, 1).obj(), existing: [reqPod(10, 20).node('n').obj()], want: ['Insufficient cpu', 'Insufficient memory'] },
    { name: 'too many resources fails due to init container cpu', pod: reqPod(1, 1).initReq({ cpu: '3m', memory: '1' }).obj(), existing: [reqPod(8, 19).node('n').obj()], want: ['Insufficient cpu'] },
    { name: 'too many resources fails due to highest init container cpu', pod: reqPod(1, 1).initReq({ cpu: '3m', memory: '1' }).initReq({ cpu: '2m', memory: '1' }).obj(), existing: [reqPod(8, 19).node('n').obj()], want: ['Insufficient cpu'] },
    { name: 'too many resources fails due to init container memory', pod: reqPod(1, 1).initReq({ cpu: '1m', memory: '3' }).obj(), existing: [reqPod(9, 19).node('n').obj()], want: ['Insufficient memory'] },
    { name: "init container fits because it's the max, not the sum", pod: reqPod(1, 1).initReq({ cpu: '1m', memory: '1' }).obj(), existing: [reqPod(9, 19).node('n').obj()], want: null },
    { name: 'both resources fit', pod: reqPod(1, 1).obj(), existing: [reqPod(5, 5).node('n').obj()], want: null },
    { name: 'one resource memory fits', pod: reqPod(2, 1).obj(), existing: [reqPod(9, 5).node('n').obj()], want: ['Insufficient cpu'] },
    { name: 'one resource cpu fits', pod: reqPod(1, 2).obj(), existing: [reqPod(5, 19).node('n').obj()], want: ['Insufficient memory'] },
    { name: 'equal edge case', pod: reqPod(5, 1).obj(), existing: [reqPod(5, 19).node('n').obj()], want: null },
    { name: 'equal edge case for init container', pod: reqPod(4, 1).initReq({ cpu: '5m', memory: '1' }).obj(), existing: [reqPod(5, 19).node('n').obj()], want: null },
    { name: 'resources + pod overhead fits', pod: reqPod(1, 1).overhead({ cpu: '3m', memory: '13' }).obj(), existing: [reqPod(5, 5).node('n').obj()], want: null },
    { name: 'requests + overhead does not fit for memory', pod: reqPod(1, 1).overhead({ cpu: '1m', memory: '15' }).obj(), existing: [reqPod(5, 5).node('n').obj()], want: ['Insufficient memory'] },
    { name: 'sidecars add up with the app containers', pod: reqPod(1, 1).initReq({ cpu: '1m', memory: '1' }, true).obj(), existing: [reqPod(8, 18).node('n').obj()], want: null },
    { name: 'sidecars that no longer fit', pod: reqPod(1, 1).initReq({ cpu: '1m', memory: '1' }, true).obj(), existing: [reqPod(9, 18).node('n').obj()], want: ['Insufficient cpu'] },
    { name: 'extended resource fits', pod: makePod().req({ [extended]: '1' }).obj(), existing: [], want: null },
    { name: 'extended resource capacity enforced', pod: makePod().req({ [extended]: '10' }).obj(), existing: [], want: [`Insufficient ${extended}`] },
    { name: 'extended resource allocatable enforced for unknown resource', pod: makePod().req({ 'example.com/bbb': '1' }).obj(), existing: [], want: ['Insufficient example.com/bbb'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: [node()], pods: c.existing });
      const s = filterEach(fwk, snapshot, c.pod).byNode.get('n') ?? null;
      if (c.want === null) assert.equal(s, null);
      else assert.deepEqual({ code: s?.code, reasons: s?.reasons }, { code: Code.Unschedulable, reasons: c.want });
    });
  }

  test('a full node reports Too many pods before the resources', () => {
    const n = makeNode().name('n').capacity({ cpu: '10m', memory: '20', pods: '1' }).obj();
    const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: [n], pods: [reqPod(10, 20).node('n').obj()] });
    const s = filterEach(fwk, snapshot, reqPod(1, 1).obj()).byNode.get('n');
    assert.deepEqual(s?.reasons, ['Too many pods', 'Insufficient cpu', 'Insufficient memory']);
  });

  test('ignored extended resources and resource groups are not checked', () => {
    const args: NodeResourcesFitArgs = { ignoredResources: [extended], ignoredResourceGroups: ['example.org'] };
    const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes: [node()], pluginArgs: new Map([[Name, args]]) });
    assert.equal(filterEach(fwk, snapshot, makePod().req({ [extended]: '10', 'example.org/x': '1' }).obj()).byNode.get('n'), null);
  });
});

describe('NodeResourcesFit Score', () => {
  type Case = { name: string; pod: Pod; nodes: Array<[string, string]>; existing: Array<[number, string, string]>; want: number[]; args?: NodeResourcesFitArgs };
  const twoContainers = () => makePod().req({ cpu: '1000m', memory: '2000' }).req({ cpu: '2000m', memory: '3000' }).obj();
  const run = (c: Case): void => {
    const nodes = c.nodes.map(([cpu, mem], i) => makeNode().name(`node${i + 1}`).capacity({ cpu, memory: mem }).obj());
    const existing = c.existing.map(([i, cpu, mem]) => makePod().node(`node${i}`).req({ cpu, memory: mem }).obj());
    const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint(Name), nodes, pods: existing, ...(c.args ? { pluginArgs: new Map([[Name, c.args]]) } : {}) });
    const scores = scoreEach(fwk, snapshot, c.pod);
    assert.deepEqual(nodes.map((n) => scores.get(n.metadata!.name!)), c.want);
  };

  const least: Case[] = [
    { name: 'nothing scheduled, nothing requested', pod: makePod().obj(), nodes: [['4', '10000'], ['4', '10000']], existing: [], want: [100, 100] },
    { name: 'nothing scheduled, resources requested, differently sized nodes', pod: twoContainers(), nodes: [['4', '10000'], ['6', '10000']], existing: [], want: [37, 50] },
    { name: 'no resources requested, pods scheduled with resources', pod: makePod().obj(), nodes: [['10', '20000'], ['10', '20000']], existing: [[1, '3', '0'], [1, '3', '0'], [2, '3', '0'], [2, '3', '5000']], want: [70, 57] },
    { name: 'resources requested, pods scheduled with resources', pod: twoContainers(), nodes: [['10', '20000'], ['10', '20000']], existing: [[1, '3', '0'], [2, '3', '5000']], want: [57, 45] },
    { name: 'resources requested, differently sized nodes', pod: twoContainers(), nodes: [['10', '20000'], ['10', '50000']], existing: [[1, '3', '0'], [2, '3', '5000']], want: [57, 60] },
    { name: 'requested resources exceed node capacity', pod: makePod().req({ cpu: '3', memory: '0' }).obj(), nodes: [['4', '10000'], ['4', '10000']], existing: [[1, '3', '0'], [2, '3', '5000']], want: [50, 25] },
    { name: 'weights on cpu and memory', pod: twoContainers(), nodes: [['4', '10000'], ['6', '10000']], existing: [], want: [41, 50], args: { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'memory', weight: 2 }, { name: 'cpu', weight: 1 }] } } },
  ];
  for (const c of least) test(`LeastAllocated: ${c.name}`, () => run(c));

  const most: Case[] = [
    { name: 'nothing scheduled, nothing requested', pod: makePod().obj(), nodes: [['4', '10000'], ['4', '10000']], existing: [], want: [0, 0], args: { scoringStrategy: { type: 'MostAllocated' } } },
    { name: 'nothing scheduled, resources requested, differently sized nodes', pod: twoContainers(), nodes: [['4', '10000'], ['6', '10000']], existing: [], want: [62, 50], args: { scoringStrategy: { type: 'MostAllocated' } } },
    { name: 'resources requested, pods scheduled with resources', pod: twoContainers(), nodes: [['10', '20000'], ['10', '20000']], existing: [[1, '3', '0'], [2, '3', '5000']], want: [42, 55], args: { scoringStrategy: { type: 'MostAllocated' } } },
  ];
  for (const c of most) test(`MostAllocated: ${c.name}`, () => run(c));

  const shape = [{ utilization: 0, score: 10 }, { utilization: 100, score: 0 }];
  const rtcr: Case[] = [
    { name: 'nothing scheduled, nothing requested (shape favors empty nodes)', pod: makePod().obj(), nodes: [['4', '10000'], ['4', '10000']], existing: [], want: [100, 100], args: { scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape } } } },
    { name: 'nothing scheduled, resources requested, differently sized nodes', pod: makePod().req({ cpu: '3', memory: '5000' }).obj(), nodes: [['4', '10000'], ['6', '10000']], existing: [], want: [38, 50], args: { scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape } } } },
  ];
  for (const c of rtcr) test(`RequestedToCapacityRatio: ${c.name}`, () => run(c));
});
