// Unit tests of the small mutating and validating plugins: NamespaceLifecycle,
// DefaultTolerationSeconds, TaintNodesByCondition, StorageObjectInUseProtection, DefaultStorageClass,
// DefaultIngressClass, PersistentVolumeClaimResize and RuntimeClass.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import type { KObject } from '../registry/strategy.ts';
import { admissionPluginFactory, type AdmissionPlugin } from './types.ts';
import { FakeLister, attrs } from './fake_lister.ts';
import './plugins.ts';

function plugin(name: string): AdmissionPlugin {
  const f = admissionPluginFactory(name);
  assert.ok(f, `${name} registered`);
  return f({});
}

function pod(name: string, spec: Record<string, unknown> = {}, ns = 'ns'): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, uid: `uid-${name}` }, spec: { containers: [{ name: 'web', image: 'nginx' }], ...spec } };
}

async function rejects(fn: () => Promise<void> | void, code: number, message: string): Promise<ApiError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `not an ApiError: ${String(e)}`);
    assert.equal(e.status.message, message);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected a rejection: ${message}`);
}

describe('NamespaceLifecycle', () => {
  const p = plugin('NamespaceLifecycle');
  const lister = new FakeLister()
    .add('', 'namespaces', { metadata: { name: 'ns' }, status: { phase: 'Active' } })
    .add('', 'namespaces', { metadata: { name: 'dying', deletionTimestamp: '2024-01-01T00:00:00Z' }, status: { phase: 'Terminating' } });

  test('allows creating in an active namespace', async () => {
    const a = attrs('CREATE', '', 'pods', pod('x'));
    assert.ok(p.handles(a));
    await p.admit!(a, lister);
  });

  test('refuses creating in a missing namespace with 404', async () => {
    const a = attrs('CREATE', '', 'pods', pod('x', {}, 'nope'));
    await rejects(() => p.admit!(a, lister), 404, 'namespaces "nope" not found');
  });

  test('refuses creating in a terminating namespace with cause NamespaceTerminating', async () => {
    const a = attrs('CREATE', '', 'pods', pod('x', {}, 'dying'));
    const err = await rejects(() => p.admit!(a, lister), 403, 'pods "x" is forbidden: unable to create new content in namespace dying because it is being terminated');
    assert.deepEqual(err.status.details?.causes, [{ reason: 'NamespaceTerminating', message: 'namespace dying is being terminated', field: 'metadata.namespace' }]);
  });

  test('allows updates in a terminating namespace', async () => {
    const a = attrs('UPDATE', '', 'pods', pod('x', {}, 'dying'), { oldObject: pod('x', {}, 'dying') });
    await p.admit!(a, lister);
  });

  test('refuses deleting the system namespaces', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      const a = attrs('DELETE', '', 'namespaces', undefined, { oldObject: { metadata: { name } } });
      assert.ok(p.handles(a));
      await rejects(() => p.validate!(a, lister), 403, `namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    const other = attrs('DELETE', '', 'namespaces', undefined, { oldObject: { metadata: { name: 'ns' } } });
    await p.validate!(other, lister);
  });

  test('sees a namespace that reaches the cache a moment later', async () => {
    const late = new FakeLister();
    setTimeout(() => late.add('', 'namespaces', { metadata: { name: 'ns' }, status: { phase: 'Active' } }), 5);
    await p.admit!(attrs('CREATE', '', 'pods', pod('x')), late);
  });
});

describe('DefaultTolerationSeconds', () => {
  const p = plugin('DefaultTolerationSeconds');
  test('adds not-ready and unreachable tolerations for 300s', () => {
    const obj = pod('x');
    p.admit!(attrs('CREATE', '', 'pods', obj), new FakeLister());
    assert.deepEqual((obj['spec'] as KObject)['tolerations'], [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });
  test('keeps a toleration the pod states and a wildcard one', () => {
    const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 };
    const obj = pod('x', { tolerations: [own] });
    p.admit!(attrs('CREATE', '', 'pods', obj), new FakeLister());
    assert.deepEqual((obj['spec'] as KObject)['tolerations'], [own,
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
    const wild = pod('y', { tolerations: [{ operator: 'Exists' }] });
    p.admit!(attrs('CREATE', '', 'pods', wild), new FakeLister());
    assert.deepEqual((wild['spec'] as KObject)['tolerations'], [{ operator: 'Exists' }]);
  });
});

describe('TaintNodesByCondition', () => {
  const p = plugin('TaintNodesByCondition');
  test('taints a new node not-ready once', () => {
    const node: KObject = { metadata: { name: 'n1' }, spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] } };
    const a = attrs('CREATE', '', 'nodes', node);
    assert.ok(p.handles(a));
    p.admit!(a, new FakeLister());
    p.admit!(a, new FakeLister());
    assert.deepEqual((node['spec'] as KObject)['taints'], [{ key: 'a', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
    assert.equal(p.handles(attrs('UPDATE', '', 'nodes', node, { oldObject: node })), false);
  });
});

describe('StorageObjectInUseProtection', () => {
  const p = plugin('StorageObjectInUseProtection');
  test('adds the pvc and pv protection finalizers', () => {
    const pvc: KObject = { metadata: { name: 'c', namespace: 'ns', finalizers: ['x'] }, spec: {} };
    p.admit!(attrs('CREATE', '', 'persistentvolumeclaims', pvc), new FakeLister());
    assert.deepEqual((pvc['metadata'] as KObject)['finalizers'], ['x', 'kubernetes.io/pvc-protection']);
    const pv: KObject = { metadata: { name: 'v' }, spec: {} };
    p.admit!(attrs('CREATE', '', 'persistentvolumes', pv), new FakeLister());
    p.admit!(attrs('CREATE', '', 'persistentvolumes', pv), new FakeLister());
    assert.deepEqual((pv['metadata'] as KObject)['finalizers'], ['kubernetes.io/pv-protection']);
  });
});

describe('DefaultStorageClass', () => {
  const p = plugin('DefaultStorageClass');
  const lister = new FakeLister()
    .add('storage.k8s.io', 'storageclasses', { metadata: { name: 'old', creationTimestamp: '2024-01-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } })
    .add('storage.k8s.io', 'storageclasses', { metadata: { name: 'new', creationTimestamp: '2024-06-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } })
    .add('storage.k8s.io', 'storageclasses', { metadata: { name: 'plain', creationTimestamp: '2025-01-01T00:00:00Z' } });
  test('gives a classless claim the newest default class', () => {
    const pvc: KObject = { metadata: { name: 'c', namespace: 'ns' }, spec: {} };
    p.admit!(attrs('CREATE', '', 'persistentvolumeclaims', pvc), lister);
    assert.equal((pvc['spec'] as KObject)['storageClassName'], 'new');
  });
  test('leaves an explicit class, even an empty one, alone', () => {
    const pvc: KObject = { metadata: { name: 'c', namespace: 'ns' }, spec: { storageClassName: '' } };
    p.admit!(attrs('CREATE', '', 'persistentvolumeclaims', pvc), lister);
    assert.equal((pvc['spec'] as KObject)['storageClassName'], '');
  });
});

describe('DefaultIngressClass', () => {
  const p = plugin('DefaultIngressClass');
  test('sets the default ingress class unless one is named', () => {
    const lister = new FakeLister().add('networking.k8s.io', 'ingressclasses', { metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } });
    const ing: KObject = { metadata: { name: 'i', namespace: 'ns' }, spec: {} };
    p.admit!(attrs('CREATE', 'networking.k8s.io', 'ingresses', ing), lister);
    assert.equal((ing['spec'] as KObject)['ingressClassName'], 'nginx');
    const legacy: KObject = { metadata: { name: 'i', namespace: 'ns', annotations: { 'kubernetes.io/ingress.class': 'x' } }, spec: {} };
    p.admit!(attrs('CREATE', 'networking.k8s.io', 'ingresses', legacy), lister);
    assert.equal((legacy['spec'] as KObject)['ingressClassName'], undefined);
  });
});

describe('PersistentVolumeClaimResize', () => {
  const p = plugin('PersistentVolumeClaimResize');
  const claim = (size: string, cls: string, phase = 'Bound'): KObject => ({
    metadata: { name: 'c', namespace: 'ns', resourceVersion: '5' }, spec: { storageClassName: cls, resources: { requests: { storage: size } } }, status: { phase },
  });
  const lister = new FakeLister()
    .add('storage.k8s.io', 'storageclasses', { metadata: { name: 'grow' }, allowVolumeExpansion: true })
    .add('storage.k8s.io', 'storageclasses', { metadata: { name: 'fixed' } });
  test('allows expansion when the class allows it', () => {
    p.validate!(attrs('UPDATE', '', 'persistentvolumeclaims', claim('2Gi', 'grow'), { oldObject: claim('1Gi', 'grow') }), lister);
  });
  test('refuses expansion when the class does not', async () => {
    await rejects(() => p.validate!(attrs('UPDATE', '', 'persistentvolumeclaims', claim('2Gi', 'fixed'), { oldObject: claim('1Gi', 'fixed') }), lister), 403,
      'persistentvolumeclaims "c" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
  });
  test('refuses expanding an unbound claim', async () => {
    await rejects(() => p.validate!(attrs('UPDATE', '', 'persistentvolumeclaims', claim('2Gi', 'grow'), { oldObject: claim('1Gi', 'grow', 'Pending') }), lister), 403,
      'persistentvolumeclaims "c" is forbidden: Only bound persistent volume claims can be expanded');
  });
});

describe('RuntimeClass', () => {
  const p = plugin('RuntimeClass');
  const lister = new FakeLister().add('node.k8s.io', 'runtimeclasses', {
    metadata: { name: 'gvisor' }, handler: 'runsc', overhead: { podFixed: { cpu: '250m', memory: '64Mi' } },
    scheduling: { nodeSelector: { sandbox: 'yes' }, tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }] },
  });
  test('sets overhead, nodeSelector and tolerations from the class', async () => {
    const obj = pod('x', { runtimeClassName: 'gvisor', nodeSelector: { zone: 'a' } });
    const a = attrs('CREATE', '', 'pods', obj);
    await p.admit!(a, lister);
    const spec = obj['spec'] as KObject;
    assert.deepEqual(spec['overhead'], { cpu: '250m', memory: '64Mi' });
    assert.deepEqual(spec['nodeSelector'], { zone: 'a', sandbox: 'yes' });
    assert.deepEqual(spec['tolerations'], [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }]);
    await p.validate!(a, lister);
  });
  test('refuses an unknown class and a conflicting selector', async () => {
    await rejects(() => p.admit!(attrs('CREATE', '', 'pods', pod('x', { runtimeClassName: 'kata' })), lister), 403,
      'pods "x" is forbidden: pod rejected: RuntimeClass "kata" not found');
    await rejects(() => p.admit!(attrs('CREATE', '', 'pods', pod('x', { runtimeClassName: 'gvisor', nodeSelector: { sandbox: 'no' } })), lister), 403,
      'pods "x" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[sandbox] = yes; pod.spec.nodeSelector[sandbox] = no');
  });
  test('refuses an overhead without a class that defines one', async () => {
    await rejects(() => p.validate!(attrs('CREATE', '', 'pods', pod('x', { overhead: { cpu: '1' } })), lister), 403,
      'pods "x" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
  });
});
