// Unit tests of Priority admission: class names resolve to spec.priority and preemptionPolicy, the
// global default applies when none is named, and unknown classes or conflicting values are refused.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import type { KObject } from '../registry/strategy.ts';
import { admissionPluginFactory } from './types.ts';
import { FakeLister, attrs } from './fake_lister.ts';
import './priority.ts';

const p = admissionPluginFactory('Priority')!({});

function pod(spec: Record<string, unknown> = {}): KObject {
  return { metadata: { name: 'x', namespace: 'ns' }, spec: { containers: [{ name: 'web' }], ...spec } };
}

function spec(o: KObject): Record<string, unknown> {
  return o['spec'] as Record<string, unknown>;
}

async function message(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 403);
    return e.status.message ?? '';
  }
  return 'allowed';
}

const classes = new FakeLister()
  .add('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'high' }, value: 1000, preemptionPolicy: 'Never' })
  .add('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'low' }, value: 10 });

describe('Priority', () => {
  test('resolves a class name to spec.priority and preemptionPolicy', async () => {
    const obj = pod({ priorityClassName: 'high' });
    await p.admit!(attrs('CREATE', '', 'pods', obj), classes);
    assert.equal(spec(obj)['priority'], 1000);
    assert.equal(spec(obj)['preemptionPolicy'], 'Never');
  });

  test('knows the system classes even before they exist as objects', async () => {
    const obj = pod({ priorityClassName: 'system-node-critical' });
    await p.admit!(attrs('CREATE', '', 'pods', obj), new FakeLister());
    assert.equal(spec(obj)['priority'], 2000001000);
    const c = pod({ priorityClassName: 'system-cluster-critical' });
    await p.admit!(attrs('CREATE', '', 'pods', c), new FakeLister());
    assert.equal(spec(c)['priority'], 2000000000);
  });

  test('no class: priority 0, or the global default class', async () => {
    const obj = pod();
    await p.admit!(attrs('CREATE', '', 'pods', obj), classes);
    assert.equal(spec(obj)['priority'], 0);
    assert.equal(spec(obj)['preemptionPolicy'], 'PreemptLowerPriority');
    assert.equal(spec(obj)['priorityClassName'], undefined);
    const withDefault = new FakeLister()
      .add('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'd1' }, value: 50, globalDefault: true, preemptionPolicy: 'PreemptLowerPriority' })
      .add('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'd2' }, value: 40, globalDefault: true, preemptionPolicy: 'PreemptLowerPriority' });
    const d = pod();
    await p.admit!(attrs('CREATE', '', 'pods', d), withDefault);
    assert.equal(spec(d)['priorityClassName'], 'd2');
    assert.equal(spec(d)['priority'], 40);
  });

  test('refuses unknown classes and a conflicting explicit priority', async () => {
    assert.equal(await message(() => p.admit!(attrs('CREATE', '', 'pods', pod({ priorityClassName: 'nope' })), classes)),
      'pods "x" is forbidden: no PriorityClass with name nope was found');
    assert.equal(await message(() => p.admit!(attrs('CREATE', '', 'pods', pod({ priorityClassName: 'low', priority: 5 })), classes)),
      'pods "x" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 10 from the given PriorityClass name');
    assert.equal(await message(() => p.admit!(attrs('CREATE', '', 'pods', pod({ priorityClassName: 'low', priority: 10 })), classes)), 'allowed');
  });

  test('updates keep the priority resolved at creation', async () => {
    const old = pod({ priority: 10, preemptionPolicy: 'PreemptLowerPriority' });
    const obj = pod({ priority: 99 });
    await p.admit!(attrs('UPDATE', '', 'pods', obj, { oldObject: old }), classes);
    assert.equal(spec(obj)['priority'], 10);
  });

  test('only one PriorityClass may be the global default', async () => {
    const l = new FakeLister().add('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'd1' }, value: 5, globalDefault: true });
    const pc = { metadata: { name: 'd2' }, value: 7, globalDefault: true };
    assert.equal(await message(() => p.validate!(attrs('CREATE', 'scheduling.k8s.io', 'priorityclasses', pc), l)),
      'priorityclasses.scheduling.k8s.io "d2" is forbidden: PriorityClass d1 is already marked as default. Only one default can exist');
    const self = { metadata: { name: 'd1' }, value: 6, globalDefault: true };
    assert.equal(await message(() => p.validate!(attrs('UPDATE', 'scheduling.k8s.io', 'priorityclasses', self, { oldObject: self }), l)), 'allowed');
  });
});
