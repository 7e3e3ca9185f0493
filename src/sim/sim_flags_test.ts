// Tests of the --sim-* flag forms and of startSimNodes' up-front option checks.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseTaints, simNodesOptionsFromFlags } from './sim_flags.ts';
import { validateSimNodesOptions } from './sim_nodes.ts';

describe('simulated node flags', () => {
  test('capacity, labels, taints and zones parse as kubectl writes them', () => {
    assert.deepEqual(simNodesOptionsFromFlags({
      capacity: 'cpu=8,memory=32Gi,pods=50', labels: 'tier=gpu', taints: 'gpu=true:NoSchedule,dedicated:NoExecute', zones: '3', namePrefix: 'kw-',
    }), {
      capacity: { cpu: '8', memory: '32Gi', pods: '50' },
      labels: { tier: 'gpu' },
      taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }, { key: 'dedicated', effect: 'NoExecute' }],
      namePrefix: 'kw-',
      zones: 3,
    });
  });

  test('bad flags name the flag and the value', () => {
    assert.throws(() => parseTaints('--sim-taints', 'a=b'), { message: '--sim-taints: "a=b" needs an effect (NoSchedule, PreferNoSchedule, NoExecute) after ":"' });
    assert.throws(() => simNodesOptionsFromFlags({ labels: 'nolabel' }), { message: '--sim-labels: expected key=value, got "nolabel"' });
    assert.throws(() => simNodesOptionsFromFlags({ zones: 'two' }), { message: '--sim-zones: expected a whole number >= 1, got "two"' });
  });

  test('startSimNodes options are checked before anything is sent', () => {
    const base = { kubeconfig: '/nonexistent', count: 3 };
    assert.throws(() => validateSimNodesOptions({ count: 1 }), { message: 'startSimNodes: give exactly one of client and kubeconfig' });
    assert.throws(() => validateSimNodesOptions({ ...base, count: -1 }), { message: 'startSimNodes: count must be an integer >= 0, got -1' });
    assert.throws(() => validateSimNodesOptions({ ...base, capacity: { cpu: 'lots' } }), { message: 'startSimNodes: capacity.cpu: not a quantity: "lots"' });
    assert.throws(() => validateSimNodesOptions({ ...base, completeAfter: '2 seconds' }), /startSimNodes: completeAfter: time: /);
    assert.throws(() => validateSimNodesOptions({ ...base, namePrefix: 'Sim_' }), /namePrefix must start a DNS subdomain name/);
    assert.throws(() => validateSimNodesOptions({ ...base, count: 70_000 }), /does not fit in 10\.244\.0\.0\/16/);
    assert.doesNotThrow(() => validateSimNodesOptions({ ...base, count: 5000, zones: 3, capacity: { cpu: '32', memory: '256Gi', pods: '110' } }));
  });
});
