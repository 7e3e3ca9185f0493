// KubeSchedulerConfiguration v1: defaults as kube-scheduler applies them, merging a profile's plugins
// into the defaults, plugin args, and validation errors that name the field.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldErrorsError } from '../api/field_errors.ts';
import { defaultSchedulerConfig, parseSchedulerConfig } from './config.ts';
import { Framework } from './framework/framework.ts';
import { MemoryListers } from './framework/listers.ts';
import { Snapshot } from './cache/snapshot.ts';
import { inTreeRegistry } from './plugins/registry.ts';

const header = 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n';

function errorsOf(yaml: string): string {
  try {
    parseSchedulerConfig(header + yaml);
  } catch (e) {
    assert.ok(e instanceof FieldErrorsError, String(e));
    return e.message;
  }
  assert.fail('expected a validation error');
}

describe('scheduler config', () => {
  test('defaults: one default-scheduler profile, adaptive percentage, 1s..10s backoff', () => {
    const c = defaultSchedulerConfig();
    assert.deepEqual([c.profiles.map((p) => p.schedulerName), c.percentageOfNodesToScore, c.podInitialBackoffSeconds, c.podMaxBackoffSeconds], [['default-scheduler'], 0, 1, 10]);
    assert.deepEqual(c.profiles[0]!.pluginArgs.get('NodeResourcesFit'), { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }] } });
    assert.deepEqual(c.profiles[0]!.pluginArgs.get('DefaultPreemption'), { minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 100 });
  });

  test('the default profile runs upstream\'s plugins in upstream\'s order with its weights', () => {
    const c = defaultSchedulerConfig();
    const fwk = new Framework(inTreeRegistry(), c.profiles[0]!, { snapshot: new Snapshot(), listers: new MemoryListers() });
    const filters = (fwk as unknown as { filterPlugins: Array<{ name: string }> }).filterPlugins.map((p) => p.name);
    assert.deepEqual(filters, ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity']);
    const scores = (fwk as unknown as { scorePlugins: Array<{ name: string }>; scoreWeights: number[] });
    assert.deepEqual(scores.scorePlugins.map((p, i) => `${p.name}:${scores.scoreWeights[i]}`), [
      'TaintToleration:3', 'NodeAffinity:2', 'NodeResourcesFit:1', 'PodTopologySpread:2', 'InterPodAffinity:2', 'NodeResourcesBalancedAllocation:1', 'ImageLocality:1',
    ]);
  });

  test('profiles, plugin enable/disable and args are read from YAML', () => {
    const c = parseSchedulerConfig(`${header}percentageOfNodesToScore: 30
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  percentageOfNodesToScore: 100
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
      enabled:
      - name: NodeResourcesFit
        weight: 5
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
`);
    assert.equal(c.percentageOfNodesToScore, 30);
    const p = c.profiles[1]!;
    assert.deepEqual([p.schedulerName, p.percentageOfNodesToScore], ['bin-packer', 100]);
    assert.deepEqual(p.pluginArgs.get('NodeResourcesFit'), { scoringStrategy: { type: 'MostAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }] } });
    const fwk = new Framework(inTreeRegistry(), p, { snapshot: new Snapshot(), listers: new MemoryListers() });
    const scores = (fwk as unknown as { scorePlugins: Array<{ name: string }>; scoreWeights: number[] });
    assert.deepEqual(scores.scorePlugins.map((pl, i) => `${pl.name}:${scores.scoreWeights[i]}`), [
      'NodeResourcesFit:5', 'TaintToleration:3', 'NodeAffinity:2', 'PodTopologySpread:2', 'InterPodAffinity:2', 'ImageLocality:1',
    ]);
  });

  test('validation errors name the field', () => {
    assert.equal(errorsOf('percentageOfNodesToScore: 101\n'), 'percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]');
    assert.equal(errorsOf('podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2\n'), 'podMaxBackoffSeconds: Invalid value: 2: must be greater than or equal to PodInitialBackoffSeconds');
    assert.equal(errorsOf('profiles:\n- schedulerName: a\n- schedulerName: a\n'), 'profiles[1].schedulerName: Duplicate value: "a"');
    assert.equal(errorsOf('profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: Nope\n'),
      'profiles[0].pluginConfig[0].args.scoringStrategy.type: Unsupported value: "Nope": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"');
    assert.equal(errorsOf('profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: LeastAllocated\n        resources:\n        - name: cpu\n          weight: 0\n'),
      'profiles[0].pluginConfig[0].args.scoringStrategy.resources[0].weight: Invalid value: 0: resource weight of cpu not in valid range [1, 100]');
    assert.equal(errorsOf('profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args:\n      defaultingType: List\n      defaultConstraints:\n      - maxSkew: 0\n        topologyKey: zone\n        whenUnsatisfiable: DoNotSchedule\n'),
      'profiles[0].pluginConfig[0].args.defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf)');
  });

  test('a wrong apiVersion is refused', () => {
    assert.throws(() => parseSchedulerConfig('apiVersion: kubescheduler.config.k8s.io/v1beta2\nkind: KubeSchedulerConfiguration\n'), /kubescheduler.config.k8s.io\/v1beta2/);
  });

  test('an unknown plugin fails when the profile is built', () => {
    const c = parseSchedulerConfig(`${header}profiles:\n- plugins:\n    filter:\n      enabled:\n      - name: Nope\n`);
    assert.throws(() => new Framework(inTreeRegistry(), c.profiles[0]!, { snapshot: new Snapshot() }), /"Nope" does not exist/);
  });
});
