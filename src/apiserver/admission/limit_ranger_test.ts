// Unit tests of LimitRanger: defaults per container with the limit-ranger annotation, and the
// min/max/ratio checks of Container, Pod and PersistentVolumeClaim items with upstream's messages.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import type { KObject } from '../registry/strategy.ts';
import { admissionPluginFactory } from './types.ts';
import { FakeLister, attrs } from './fake_lister.ts';
import './limit_ranger.ts';

const p = admissionPluginFactory('LimitRanger')!({});

function lister(...limits: Record<string, unknown>[]): FakeLister {
  return new FakeLister().add('', 'limitranges', { metadata: { name: 'lr', namespace: 'ns' }, spec: { limits } });
}

function pod(containers: Record<string, unknown>[], init: Record<string, unknown>[] = []): KObject {
  return { metadata: { name: 'x', namespace: 'ns' }, spec: { containers, ...(init.length ? { initContainers: init } : {}) } };
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

describe('LimitRanger', () => {
  test('fills default requests and limits and says so in an annotation', async () => {
    const l = lister({ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } });
    const obj = pod([{ name: 'web', image: 'nginx', resources: { requests: { memory: '64Mi' } } }, { name: 'side', image: 'busybox' }], [{ name: 'init', image: 'busybox' }]);
    const a = attrs('CREATE', '', 'pods', obj);
    assert.ok(p.handles(a));
    await p.admit!(a, l);
    const spec = obj['spec'] as { containers: KObject[]; initContainers: KObject[] };
    assert.deepEqual(spec.containers[0]!['resources'], { requests: { memory: '64Mi', cpu: '100m' }, limits: { cpu: '500m', memory: '256Mi' } });
    assert.deepEqual(spec.containers[1]!['resources'], { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    assert.equal((obj['metadata'] as { annotations: Record<string, string> }).annotations['kubernetes.io/limit-ranger'],
      'LimitRanger plugin set: cpu request for container web; cpu, memory limit for container web; cpu, memory request for container side; '
      + 'cpu, memory limit for container side; cpu, memory request for init container init; cpu, memory limit for init container init');
    assert.equal(await message(() => p.validate!(a, l)), 'allowed');
  });

  test('refuses containers beyond max with every violation listed', async () => {
    const l = lister({ type: 'Container', max: { cpu: '1', memory: '1Gi' } });
    const obj = pod([{ name: 'web', resources: { limits: { cpu: '2', memory: '2Gi' }, requests: { cpu: '2', memory: '2Gi' } } }]);
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'pods', obj), l)),
      'pods "x" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum memory usage per Container is 1Gi, but limit is 2Gi]');
  });

  test('a max without a limit and a min without a request are refused', async () => {
    const l = lister({ type: 'Container', max: { cpu: '1' }, min: { memory: '10Mi' } });
    const obj = pod([{ name: 'web' }]);
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'pods', obj), l)),
      'pods "x" is forbidden: [minimum memory usage per Container is 10Mi.  No request is specified, maximum cpu usage per Container is 1.  No limit is specified]');
  });

  test('min applies to requests and limits', async () => {
    const l = lister({ type: 'Container', min: { cpu: '200m' } });
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'pods', pod([{ name: 'web', resources: { requests: { cpu: '100m' } } }])), l)),
      'pods "x" is forbidden: minimum cpu usage per Container is 200m, but request is 100m');
  });

  test('maxLimitRequestRatio', async () => {
    const l = lister({ type: 'Container', maxLimitRequestRatio: { cpu: '2' } });
    const bad = pod([{ name: 'web', resources: { requests: { cpu: '100m' }, limits: { cpu: '500m' } } }]);
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'pods', bad), l)),
      'pods "x" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000');
    const ok = pod([{ name: 'web', resources: { requests: { cpu: '100m' }, limits: { cpu: '200m' } } }]);
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'pods', ok), l)), 'allowed');
    const none = pod([{ name: 'web', resources: { limits: { cpu: '200m' } } }]);
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'pods', none), l)),
      'pods "x" is forbidden: cpu max limit to request ratio per Container is 2, but no request is specified or request is 0');
  });

  test('Pod items check the sum of the containers', async () => {
    const l = lister({ type: 'Pod', max: { cpu: '1' } });
    const obj = pod([{ name: 'a', resources: { limits: { cpu: '600m' } } }, { name: 'b', resources: { limits: { cpu: '600m' } } }]);
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'pods', obj), l)),
      'pods "x" is forbidden: maximum cpu usage per Pod is 1, but limit is 1200m');
  });

  test('PersistentVolumeClaim items check the requested storage', async () => {
    const l = lister({ type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '5Gi' } });
    const pvc = (size: string): KObject => ({ metadata: { name: 'c', namespace: 'ns' }, spec: { resources: { requests: { storage: size } } } });
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'persistentvolumeclaims', pvc('10Gi')), l)),
      'persistentvolumeclaims "c" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi');
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'persistentvolumeclaims', pvc('500Mi')), l)),
      'persistentvolumeclaims "c" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi');
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'persistentvolumeclaims', pvc('2Gi')), l)), 'allowed');
  });

  test('pod updates are not checked', () => {
    const obj = pod([{ name: 'web' }]);
    assert.equal(p.handles(attrs('UPDATE', '', 'pods', obj, { oldObject: obj })), false);
  });
});
