// The framework runtime: MultiPoint expansion and ordering (expandMultiPointPlugins), score weights,
// Filter stopping at the first failure with the plugin recorded, PreFilter Skip, and Permit waits.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/core_v1.ts';
import { FakeClock } from './clock.ts';
import { CycleState } from './cycle_state.ts';
import { Framework } from './framework.ts';
import { expandPlugins, type ExtensionPoint } from './profile.ts';
import { Code, newStatus, type FilterPlugin, type PermitPlugin, type Plugin, type PluginFactory, type PreFilterPlugin, type ScorePlugin } from './interface.ts';
import { PodInfo } from './pod_info.ts';
import { makeNode, makePod, multiPoint, newTestFramework } from './testing/wrappers.ts';
import { newNodeResourcesFit } from '../plugins/node_resources_fit/node_resources_fit.ts';

function filterPlugin(name: string, verdict: (nodeName: string) => string | null, skip = false): PluginFactory {
  return () => ({
    name,
    preFilter: () => [null, skip ? newStatus(Code.Skip) : null] as const,
    filter: (_s: CycleState, _p: Pod, ni: { name: string }) => {
      const r = verdict(ni.name);
      return r === null ? null : newStatus(Code.Unschedulable, r);
    },
  } as FilterPlugin & PreFilterPlugin);
}

function scorePlugin(name: string, score: (nodeName: string) => number): PluginFactory {
  return () => ({ name, score: (_s: CycleState, _p: Pod, ni: { name: string }) => score(ni.name) } as ScorePlugin);
}

describe('expandPlugins', () => {
  const implementsAll = (): boolean => true;
  test('explicit re-configurations first, then MultiPoint, then the other explicit plugins', () => {
    const { byPoint } = expandPlugins({
      multiPoint: { enabled: [{ name: 'A' }, { name: 'B' }, { name: 'C' }] },
      filter: { enabled: [{ name: 'D' }, { name: 'C' }] },
    }, implementsAll);
    assert.deepEqual(byPoint.filter, ['C', 'A', 'B', 'D']);
    assert.deepEqual(byPoint.score, ['A', 'B', 'C']);
  });

  test('disabling at one point removes a MultiPoint plugin only there', () => {
    const { byPoint } = expandPlugins({ multiPoint: { enabled: [{ name: 'A' }, { name: 'B' }] }, score: { disabled: [{ name: 'B' }] } }, implementsAll);
    assert.deepEqual([byPoint.filter, byPoint.score], [['A', 'B'], ['A']]);
  });

  test("'*' disables every MultiPoint plugin at that point", () => {
    const { byPoint } = expandPlugins({ multiPoint: { enabled: [{ name: 'A' }] }, score: { enabled: [{ name: 'X' }], disabled: [{ name: '*' }] } }, implementsAll);
    assert.deepEqual(byPoint.score, ['X']);
  });

  test('plugins are only placed at points they implement', () => {
    const { byPoint } = expandPlugins({ multiPoint: { enabled: [{ name: 'F' }, { name: 'S' }] } }, (n: string, p: ExtensionPoint) => (n === 'F' ? p === 'filter' : p === 'score'));
    assert.deepEqual([byPoint.filter, byPoint.score, byPoint.preFilter], [['F'], ['S'], []]);
  });

  test('explicit score weights win over MultiPoint ones; missing weights are 1', () => {
    const { weights } = expandPlugins({ multiPoint: { enabled: [{ name: 'A', weight: 3 }, { name: 'B' }] }, score: { enabled: [{ name: 'A', weight: 5 }] } }, implementsAll);
    assert.deepEqual([weights.get('A'), weights.get('B')], [5, 1]);
  });

  test('a plugin enabled twice at one point is an error', () => {
    assert.throws(() => expandPlugins({ filter: { enabled: [{ name: 'A' }, { name: 'A' }] } }, implementsAll), /already registered/);
  });
});

describe('Framework', () => {
  test('Filter stops at the first failing plugin and records it', () => {
    const calls: string[] = [];
    const registry = new Map<string, PluginFactory>([
      ['First', filterPlugin('First', (n) => { calls.push(`First/${n}`); return n === 'n1' ? 'first says no' : null; })],
      ['Second', filterPlugin('Second', (n) => { calls.push(`Second/${n}`); return 'second says no'; })],
    ]);
    const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint('First', 'Second'), nodes: [makeNode().name('n1').obj(), makeNode().name('n2').obj()] });
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, makePod().obj());
    const s1 = fwk.runFilterPlugins(state, makePod().obj(), snapshot.nodeInfoList[0]!);
    const s2 = fwk.runFilterPlugins(state, makePod().obj(), snapshot.nodeInfoList[1]!);
    assert.deepEqual([s1?.plugin, s1?.reasons, s2?.plugin], ['First', ['first says no'], 'Second']);
    assert.deepEqual(calls, ['First/n1', 'First/n2', 'Second/n2']);
  });

  test('a PreFilter Skip skips that plugin\'s Filter', () => {
    const registry = new Map<string, PluginFactory>([['Skipper', filterPlugin('Skipper', () => 'never', true)]]);
    const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint('Skipper'), nodes: [makeNode().name('n1').obj()] });
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, makePod().obj());
    assert.equal(fwk.runFilterPlugins(state, makePod().obj(), snapshot.nodeInfoList[0]!), null);
  });

  test('Score totals are weighted sums; out-of-range scores are errors', () => {
    const registry = new Map<string, PluginFactory>([
      ['A', scorePlugin('A', (n) => (n === 'n1' ? 10 : 20))],
      ['B', scorePlugin('B', (n) => (n === 'n1' ? 100 : 0))],
      ['Bad', scorePlugin('Bad', () => 101)],
    ]);
    const nodes = [makeNode().name('n1').obj(), makeNode().name('n2').obj()];
    const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint({ name: 'A', weight: 2 }, { name: 'B', weight: 1 }), nodes });
    assert.deepEqual(fwk.runScorePlugins(new CycleState(), makePod().obj(), snapshot.nodeInfoList), [120, 40]);
    const bad = newTestFramework({ registry, plugins: multiPoint('Bad'), nodes });
    assert.throws(() => bad.fwk.runScorePlugins(new CycleState(), makePod().obj(), bad.snapshot.nodeInfoList), /invalid score 101/);
  });

  test('an unknown plugin name fails the profile', () => {
    assert.throws(() => newTestFramework({ registry: new Map(), plugins: multiPoint('Nope') }), /"Nope" does not exist/);
  });

  test('Permit Wait holds the pod until allowed, or rejects it at the timeout', async () => {
    const clock = new FakeClock();
    const registry = new Map<string, PluginFactory>([['Gate', () => ({ name: 'Gate', permit: () => ({ status: newStatus(Code.Wait), timeoutMs: 5000 }) } as PermitPlugin)]]);
    const fwk = new Framework(registry, { schedulerName: 'x', plugins: multiPoint('Gate'), pluginArgs: new Map(), percentageOfNodesToScore: null }, { snapshot: newTestFramework({ registry: new Map(), plugins: {} }).snapshot, clock });
    const a = makePod().name('a').obj();
    assert.equal(fwk.runPermitPlugins(new CycleState(), a, 'n1')?.code, Code.Wait);
    const waitA = fwk.waitOnPermit(a);
    fwk.getWaitingPod(a.metadata!.uid!)!.allow('Gate');
    assert.equal(await waitA, null);

    const b = makePod().name('b').obj();
    fwk.runPermitPlugins(new CycleState(), b, 'n1');
    const waitB = fwk.waitOnPermit(b);
    clock.step(5000);
    const s = await waitB;
    assert.deepEqual({ code: s?.code, msg: s?.message(), plugin: s?.plugin }, { code: Code.Unschedulable, msg: 'rejected due to timeout after waiting 5s at plugin Gate', plugin: 'Gate' });
  });

  test('pods nominated to a node keep lower-priority pods from taking their room', () => {
    const nominated = new PodInfo(makePod().name('nominated').namespace('d').priority(100).req({ cpu: '2' }).nominatedNodeName('n1').obj());
    const nominator = { nominatedPodsForNode: (n: string) => (n === 'n1' ? [nominated] : []) };
    const { fwk, snapshot } = newTestFramework({
      registry: new Map([['NodeResourcesFit', newNodeResourcesFit]]), plugins: multiPoint('NodeResourcesFit'),
      nodes: [makeNode().name('n1').capacity({ cpu: '3', memory: '1Gi' }).obj()], nominator,
    });
    const verdict = (priority: number): string | null => {
      const pod = makePod().name('p').namespace('d').priority(priority).req({ cpu: '2' }).obj();
      const state = new CycleState();
      fwk.runPreFilterPlugins(state, pod);
      const s = fwk.runFilterPluginsWithNominatedPods(state, pod, snapshot.nodeInfoList[0]!);
      return s === null ? null : s.message();
    };
    assert.equal(verdict(50), 'Insufficient cpu');
    assert.equal(verdict(100), 'Insufficient cpu', 'equal priority yields too');
    assert.equal(verdict(200), null);
  });

  test('plugins are built once and shared between extension points', () => {
    let built = 0;
    const registry = new Map<string, PluginFactory>([['F', () => { built++; return filterPlugin('F', () => null)(undefined, null as never) as Plugin; }]]);
    newTestFramework({ registry, plugins: multiPoint('F') });
    assert.equal(built, 1);
  });

  test('PreFilter extensions run only for plugins not skipped at PreFilter, as PreFilter last decided', () => {
    const calls: string[] = [];
    let skipB = false;
    const extPlugin = (name: string, skip: () => boolean): PluginFactory => () => {
      const pl = {
        name,
        preFilter: () => [null, skip() ? newStatus(Code.Skip) : null] as const,
        filter: () => null,
        preFilterExtensions: () => pl,
        addPod: () => (calls.push(`${name}+`), null),
        removePod: () => (calls.push(`${name}-`), null),
      };
      return pl as unknown as Plugin;
    };
    const registry = new Map<string, PluginFactory>([['A', extPlugin('A', () => false)], ['B', extPlugin('B', () => skipB)], ['F', filterPlugin('F', () => null)]]);
    const { fwk, snapshot } = newTestFramework({ registry, plugins: multiPoint('A', 'B', 'F'), nodes: [makeNode().name('n').obj()] });
    const ni = snapshot.nodeInfoList[0]!;
    const pi = new PodInfo(makePod().name('v').obj());
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, makePod().obj());
    assert.equal(fwk.hasPreFilterExtensions(state), true);
    fwk.runPreFilterExtensionAddPod(state, makePod().obj(), pi, ni);
    fwk.runPreFilterExtensionRemovePod(state.clone(), makePod().obj(), pi, ni);
    skipB = true;
    fwk.runPreFilterPlugins(state, makePod().obj());
    fwk.runPreFilterExtensionAddPod(state, makePod().obj(), pi, ni);
    assert.deepEqual(calls, ['A+', 'B+', 'A-', 'B-', 'A+']);

    const none = new Map<string, PluginFactory>([['B', extPlugin('B', () => true)]]);
    const other = newTestFramework({ registry: none, plugins: multiPoint('B') });
    const s2 = new CycleState();
    other.fwk.runPreFilterPlugins(s2, makePod().obj());
    assert.equal(other.fwk.hasPreFilterExtensions(s2), false);
  });
});
