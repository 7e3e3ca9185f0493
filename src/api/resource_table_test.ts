// Tests of the resource table: upstream v1.32 verbs, scope, short names, categories and subresources,
// and that the generated part still matches the vendored OpenAPI document.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  RESOURCES, SERVED_GROUPS, preferredResource, preferredVersion, resolveResourceName, resourceFor, resourceForKind,
  resourcesOf, servedGroupVersions, subresourceOf, isServedGroupVersion,
} from './resource_table.ts';
import type { ResourceInfo } from './resource_types.ts';
import { generateResourceTable } from '../../scripts/gen_resources.ts';
import type { Spec } from '../../scripts/gen_resources.ts';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function must(info: ResourceInfo | undefined, what: string): ResourceInfo {
  assert.ok(info, `${what} is in the table`);
  return info;
}

describe('resource table', () => {
  test('pods have upstream verbs, short name, category and scope', () => {
    const pods = must(resourceFor('', 'v1', 'pods'), 'pods');
    assert.deepEqual(pods.verbs, ALL_VERBS);
    assert.deepEqual(pods.shortNames, ['po']);
    assert.deepEqual(pods.categories, ['all']);
    assert.equal(pods.namespaced, true);
    assert.equal(pods.kind, 'Pod');
    assert.equal(pods.listKind, 'PodList');
    assert.equal(pods.singular, 'pod');
    assert.equal(pods.definition, 'io.k8s.api.core.v1.Pod');
    assert.equal(pods.storageVersion, 'v1');
  });

  test('services and deployments carry their short names and the all category', () => {
    const svc = must(resourceFor('', 'v1', 'services'), 'services');
    assert.deepEqual(svc.shortNames, ['svc']);
    assert.deepEqual(svc.categories, ['all']);
    const deploy = must(resourceFor('apps', 'v1', 'deployments'), 'deployments');
    assert.deepEqual(deploy.shortNames, ['deploy']);
    assert.deepEqual(deploy.categories, ['all']);
    assert.deepEqual(deploy.verbs, ALL_VERBS);
  });

  test('the usual short names resolve', () => {
    const expected: Record<string, string> = {
      po: 'pods', svc: 'services', deploy: 'deployments', rs: 'replicasets', ns: 'namespaces', no: 'nodes',
      cm: 'configmaps', sa: 'serviceaccounts', ds: 'daemonsets', sts: 'statefulsets', cj: 'cronjobs',
      ing: 'ingresses', pvc: 'persistentvolumeclaims', pv: 'persistentvolumes', pdb: 'poddisruptionbudgets',
      hpa: 'horizontalpodautoscalers', crd: 'customresourcedefinitions', csr: 'certificatesigningrequests',
      netpol: 'networkpolicies', sc: 'storageclasses', pc: 'priorityclasses', quota: 'resourcequotas',
      limits: 'limitranges', ep: 'endpoints', rc: 'replicationcontrollers', cs: 'componentstatuses',
    };
    for (const [short, resource] of Object.entries(expected)) {
      assert.equal(resolveResourceName(short)[0]?.resource, resource, short);
    }
  });

  test('ev resolves to core events first, then events.k8s.io', () => {
    const found = resolveResourceName('ev').map((r) => `${r.group}/${r.version}/${r.resource}`);
    assert.deepEqual(found, ['/v1/events', 'events.k8s.io/v1/events']);
  });

  test('names resolve by plural, singular, kind and group qualification', () => {
    assert.equal(resolveResourceName('Deployment')[0]?.group, 'apps');
    assert.equal(resolveResourceName('deployment')[0]?.resource, 'deployments');
    assert.equal(resolveResourceName('deployments.apps')[0]?.resource, 'deployments');
    assert.equal(resolveResourceName('hpa.autoscaling')[0]?.version, 'v2');
    assert.deepEqual(resolveResourceName('deployments.batch'), []);
    assert.deepEqual(resolveResourceName('nosuchthing'), []);
  });

  test('kubectl get all covers the upstream set', () => {
    const all = RESOURCES.filter((r) => r.categories.includes('all')).map((r) => `${r.group}/${r.version}/${r.resource}`);
    assert.deepEqual(all.sort(), [
      '/v1/pods', '/v1/replicationcontrollers', '/v1/services',
      'apps/v1/daemonsets', 'apps/v1/deployments', 'apps/v1/replicasets', 'apps/v1/statefulsets',
      'autoscaling/v1/horizontalpodautoscalers', 'autoscaling/v2/horizontalpodautoscalers',
      'batch/v1/cronjobs', 'batch/v1/jobs',
    ]);
  });

  test('pod subresources match upstream, with eviction in policy/v1', () => {
    const pods = must(resourceFor('', 'v1', 'pods'), 'pods');
    assert.deepEqual(pods.subresources.map((s) => s.name), [
      'attach', 'binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'portforward', 'proxy', 'status',
    ]);
    assert.deepEqual(subresourceOf(pods, 'log'), { name: 'log', kind: 'Pod', verbs: ['get'] });
    assert.deepEqual(subresourceOf(pods, 'exec'), { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] });
    assert.deepEqual(subresourceOf(pods, 'eviction'), { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] });
    assert.deepEqual(subresourceOf(pods, 'proxy')?.verbs, ['create', 'delete', 'get', 'patch', 'update']);
    assert.deepEqual(subresourceOf(pods, 'status'), { name: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] });
    assert.equal(subresourceOf(pods, 'resize'), undefined, 'resize is behind an alpha gate in v1.32');
  });

  test('scale subresources are autoscaling/v1 Scale', () => {
    for (const [group, resource] of [['apps', 'deployments'], ['apps', 'replicasets'], ['apps', 'statefulsets'], ['', 'replicationcontrollers']]) {
      const info = must(resourceFor(group, 'v1', resource), resource);
      assert.deepEqual(subresourceOf(info, 'scale'), { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] });
    }
  });

  test('status subresources, token, approval and finalize are present', () => {
    for (const r of ['deployments', 'daemonsets', 'statefulsets', 'replicasets']) assert.ok(subresourceOf(must(resourceFor('apps', 'v1', r), r), 'status'), r);
    for (const r of ['jobs', 'cronjobs']) assert.ok(subresourceOf(must(resourceFor('batch', 'v1', r), r), 'status'), r);
    const sa = must(resourceFor('', 'v1', 'serviceaccounts'), 'serviceaccounts');
    assert.deepEqual(subresourceOf(sa, 'token'), { name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] });
    const csr = must(resourceFor('certificates.k8s.io', 'v1', 'certificatesigningrequests'), 'csr');
    assert.deepEqual(subresourceOf(csr, 'approval')?.verbs, ['get', 'patch', 'update']);
    const ns = must(resourceFor('', 'v1', 'namespaces'), 'namespaces');
    assert.deepEqual(subresourceOf(ns, 'finalize')?.verbs, ['update']);
    assert.equal(ns.namespaced, false);
    assert.ok(!ns.verbs.includes('deletecollection'), 'namespaces have no deletecollection upstream');
  });

  test('review resources are create-only and unlisted', () => {
    const reviews: [string, string, boolean][] = [
      ['authentication.k8s.io', 'tokenreviews', false],
      ['authentication.k8s.io', 'selfsubjectreviews', false],
      ['authorization.k8s.io', 'subjectaccessreviews', false],
      ['authorization.k8s.io', 'selfsubjectaccessreviews', false],
      ['authorization.k8s.io', 'selfsubjectrulesreviews', false],
      ['authorization.k8s.io', 'localsubjectaccessreviews', true],
    ];
    for (const [group, resource, namespaced] of reviews) {
      const info = must(resourceFor(group, 'v1', resource), resource);
      assert.deepEqual(info.verbs, ['create'], resource);
      assert.equal(info.namespaced, namespaced, resource);
      assert.equal(info.listKind, '', resource);
    }
    assert.deepEqual(resourcesOf('authentication.k8s.io', 'v1').map((r) => r.resource), ['selfsubjectreviews', 'tokenreviews']);
  });

  test('every requested group-version is served, autoscaling preferring v2', () => {
    assert.deepEqual(servedGroupVersions(), [
      'v1', 'apiregistration.k8s.io/v1', 'apps/v1', 'events.k8s.io/v1', 'authentication.k8s.io/v1',
      'authorization.k8s.io/v1', 'autoscaling/v2', 'autoscaling/v1', 'batch/v1', 'certificates.k8s.io/v1',
      'networking.k8s.io/v1', 'policy/v1', 'rbac.authorization.k8s.io/v1', 'storage.k8s.io/v1',
      'admissionregistration.k8s.io/v1', 'apiextensions.k8s.io/v1', 'scheduling.k8s.io/v1',
      'coordination.k8s.io/v1', 'node.k8s.io/v1', 'discovery.k8s.io/v1',
    ]);
    assert.equal(preferredVersion('autoscaling'), 'v2');
    assert.equal(preferredVersion('flowcontrol.apiserver.k8s.io'), undefined);
    assert.ok(isServedGroupVersion('autoscaling', 'v1'));
    assert.ok(!isServedGroupVersion('resource.k8s.io', 'v1beta1'));
    for (const g of SERVED_GROUPS) for (const v of g.versions) assert.ok(resourcesOf(g.name, v).length > 0, `${g.name}/${v} has resources`);
  });

  test('autoscaling v1 and v2 share one stored object in v2', () => {
    const v1 = must(resourceFor('autoscaling', 'v1', 'horizontalpodautoscalers'), 'hpa v1');
    const v2 = must(resourceFor('autoscaling', 'v2', 'horizontalpodautoscalers'), 'hpa v2');
    assert.equal(v1.storageVersion, 'v2');
    assert.equal(v2.storageVersion, 'v2');
    assert.equal(preferredResource('autoscaling', 'horizontalpodautoscalers'), v2);
    assert.equal(v1.definition, 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler');
  });

  test('lookups by kind and unknowns', () => {
    assert.equal(resourceForKind('apps', 'v1', 'StatefulSet')?.resource, 'statefulsets');
    assert.equal(resourceForKind('', 'v1', 'Event')?.resource, 'events');
    assert.equal(resourceForKind('autoscaling', 'v1', 'Scale'), undefined);
    assert.equal(resourceFor('', 'v1', 'nosuch'), undefined);
    assert.equal(preferredResource('nosuch.io', 'things'), undefined);
  });

  test('every entry is complete and unique', () => {
    const seen = new Set<string>();
    for (const r of RESOURCES) {
      const key = `${r.group}/${r.version}/${r.resource}`;
      assert.ok(!seen.has(key), `duplicate ${key}`);
      seen.add(key);
      assert.ok(r.kind && r.singular && r.definition.endsWith(`.${r.kind}`), key);
      assert.ok(r.verbs.length > 0, key);
      if (r.verbs.includes('list')) assert.equal(r.listKind, `${r.kind}List`, key);
    }
    assert.ok(seen.has('/v1/componentstatuses') && seen.has('apiextensions.k8s.io/v1/customresourcedefinitions'));
    assert.ok(seen.has('apiregistration.k8s.io/v1/apiservices'));
  });

  test('resource_table.generated.ts is what the generator makes of the vendored spec', () => {
    const spec = JSON.parse(readFileSync(new URL('./openapi/kubernetes-v1.32-openapi-v2.json', import.meta.url), 'utf8')) as Spec;
    const onDisk = readFileSync(new URL('./resource_table.generated.ts', import.meta.url), 'utf8');
    assert.equal(generateResourceTable(spec), onDisk, 'run: node --import tsx scripts/gen_resources.ts');
  });
});
