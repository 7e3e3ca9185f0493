// Unit tests of ResourceQuota admission: object counts, compute resources with required
// requests/limits, scopes, updates, and concurrent creates charged before they reach the cache.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import type { KObject } from '../registry/strategy.ts';
import { FakeLister, attrs } from './fake_lister.ts';
import { ResourceQuotaAdmission } from './resource_quota.ts';

function quota(name: string, hard: Record<string, string>, extra: Record<string, unknown> = {}): KObject {
  return { metadata: { name, namespace: 'ns' }, spec: { hard, ...extra } };
}

let n = 0;
function pod(name: string, resources?: Record<string, unknown>, spec: Record<string, unknown> = {}): KObject {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}-${n++}` },
    spec: { containers: [{ name: 'web', image: 'nginx', ...(resources ? { resources } : {}) }], ...spec },
  };
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

describe('ResourceQuota', () => {
  test('refuses the pod past a pods quota with upstream message', async () => {
    const p = new ResourceQuotaAdmission();
    const l = new FakeLister().add('', 'resourcequotas', quota('q', { pods: '2' }));
    l.add('', 'pods', pod('a')).add('', 'pods', pod('b'));
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('c')), l)),
      'pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
  });

  test('terminal pods do not count against pods, but count/pods does', async () => {
    const p = new ResourceQuotaAdmission();
    const done = { ...pod('a'), status: { phase: 'Succeeded' } };
    const l = new FakeLister().add('', 'resourcequotas', quota('q', { pods: '1' })).add('', 'pods', done);
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('c')), l)), 'allowed');
    const p2 = new ResourceQuotaAdmission();
    const l2 = new FakeLister().add('', 'resourcequotas', quota('q', { 'count/pods': '1' })).add('', 'pods', done);
    assert.equal(await message(() => p2.validate(attrs('CREATE', '', 'pods', pod('c')), l2)),
      'pods "c" is forbidden: exceeded quota: q, requested: count/pods=1, used: count/pods=1, limited: count/pods=1');
  });

  test('requires limits and requests a quota tracks', async () => {
    const p = new ResourceQuotaAdmission();
    const l = new FakeLister().add('', 'resourcequotas', quota('compute', { 'limits.cpu': '2', 'limits.memory': '1Gi', 'requests.cpu': '1' }));
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('c')), l)),
      'pods "c" is forbidden: failed quota: compute: must specify limits.cpu for: web; limits.memory for: web; requests.cpu for: web');
  });

  test('sums compute resources of existing pods', async () => {
    const p = new ResourceQuotaAdmission();
    const res = { requests: { cpu: '500m', memory: '100Mi' }, limits: { cpu: '1', memory: '200Mi' } };
    const l = new FakeLister().add('', 'resourcequotas', quota('compute', { 'requests.cpu': '1', 'limits.memory': '1Gi' }))
      .add('', 'pods', pod('a', res)).add('', 'pods', pod('b', { requests: { cpu: '400m' }, limits: { memory: '10Mi' } }));
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('c', res)), l)),
      'pods "c" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=900m, limited: requests.cpu=1');
  });

  test('scopes: BestEffort quota ignores pods with resources', async () => {
    const p = new ResourceQuotaAdmission();
    const l = new FakeLister().add('', 'resourcequotas', quota('be', { pods: '1' }, { scopes: ['BestEffort'] })).add('', 'pods', pod('a'));
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('c', { requests: { cpu: '1' } })), l)), 'allowed');
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('d')), l)),
      'pods "d" is forbidden: exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1');
  });

  test('scopes: Terminating and PriorityClass selectors', async () => {
    const p = new ResourceQuotaAdmission();
    const l = new FakeLister()
      .add('', 'resourcequotas', quota('term', { pods: '0' }, { scopes: ['Terminating'] }))
      .add('', 'resourcequotas', quota('prio', { pods: '0' }, { scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } }));
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('c')), l)), 'allowed');
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('d', undefined, { activeDeadlineSeconds: 10 })), l)),
      'pods "d" is forbidden: exceeded quota: term, requested: pods=1, used: pods=0, limited: pods=0');
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('e', undefined, { priorityClassName: 'high' })), l)),
      'pods "e" is forbidden: exceeded quota: prio, requested: pods=1, used: pods=0, limited: pods=0');
  });

  test('object counts of other resources, legacy names included', async () => {
    const p = new ResourceQuotaAdmission();
    const cm = (name: string): KObject => ({ metadata: { name, namespace: 'ns', uid: name } });
    const l = new FakeLister().add('', 'resourcequotas', quota('objs', { configmaps: '1', 'count/deployments.apps': '0' })).add('', 'configmaps', cm('a'));
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'configmaps', cm('b')), l)),
      'configmaps "b" is forbidden: exceeded quota: objs, requested: configmaps=1, used: configmaps=1, limited: configmaps=1');
    assert.equal(await message(() => p.validate(attrs('CREATE', 'apps', 'deployments', { metadata: { name: 'd', namespace: 'ns' }, spec: {} }), l)),
      'deployments.apps "d" is forbidden: exceeded quota: objs, requested: count/deployments.apps=1, used: count/deployments.apps=0, limited: count/deployments.apps=0');
  });

  test('services: node ports and load balancers', async () => {
    const p = new ResourceQuotaAdmission();
    const l = new FakeLister().add('', 'resourcequotas', quota('svc', { 'services.nodeports': '1', 'services.loadbalancers': '0' }));
    const np = { metadata: { name: 's', namespace: 'ns' }, spec: { type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] } };
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'services', np), l)),
      'services "s" is forbidden: exceeded quota: svc, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1');
    const cluster = { metadata: { name: 'c', namespace: 'ns', resourceVersion: '3' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } };
    l.add('', 'services', cluster);
    const toLb = { metadata: { name: 'c', namespace: 'ns', resourceVersion: '3' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } };
    assert.equal(await message(() => p.validate(attrs('UPDATE', '', 'services', toLb, { oldObject: cluster }), l)),
      'services "c" is forbidden: exceeded quota: svc, requested: services.loadbalancers=1, used: services.loadbalancers=0, limited: services.loadbalancers=0');
  });

  test('claims: storage per class', async () => {
    const p = new ResourceQuotaAdmission();
    const l = new FakeLister().add('', 'resourcequotas', quota('st', { 'requests.storage': '10Gi', 'gold.storageclass.storage.k8s.io/requests.storage': '1Gi' }));
    const pvc = { metadata: { name: 'c', namespace: 'ns' }, spec: { storageClassName: 'gold', resources: { requests: { storage: '2Gi' } } } };
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'persistentvolumeclaims', pvc), l)),
      'persistentvolumeclaims "c" is forbidden: exceeded quota: st, requested: gold.storageclass.storage.k8s.io/requests.storage=2Gi, '
      + 'used: gold.storageclass.storage.k8s.io/requests.storage=0, limited: gold.storageclass.storage.k8s.io/requests.storage=1Gi');
  });

  test('concurrent creates are charged before they are visible', async () => {
    const p = new ResourceQuotaAdmission();
    const l = new FakeLister().add('', 'resourcequotas', quota('q', { pods: '2' }));
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((name) => message(() => p.validate(attrs('CREATE', '', 'pods', pod(name)), l))));
    assert.deepEqual(results.filter((r) => r === 'allowed').length, 2);
    // Once the two writes are visible they are counted from the cache instead, not twice.
    l.add('', 'pods', pod('a')).add('', 'pods', pod('b'));
    assert.match(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('e')), l)), /used: pods=2, limited: pods=2$/);
  });

  test('dry runs are not charged', async () => {
    const p = new ResourceQuotaAdmission();
    const l = new FakeLister().add('', 'resourcequotas', quota('q', { pods: '1' }));
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('a'), { dryRun: true }), l)), 'allowed');
    assert.equal(await message(() => p.validate(attrs('CREATE', '', 'pods', pod('b')), l)), 'allowed');
  });
});
