// Tests of the discovery documents: the legacy and aggregated shapes kubectl, client-go and the
// Python client parse (CLIENT-COMPAT §1).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGGREGATED_DISCOVERY_CONTENT_TYPE, aggregatedDiscovery, apiGroup, apiGroupDocument, apiGroupList, apiResourceList, apiVersions,
} from './discovery.ts';
import type { APIResource, DiscoverySource } from './discovery.ts';
import { RESOURCES, SERVED_GROUPS, servedGroupVersions } from './resource_table.ts';

function entry(list: { resources: APIResource[] } | undefined, name: string): APIResource {
  const found = list?.resources.find((r) => r.name === name);
  assert.ok(found, `${name} listed`);
  return found;
}

describe('legacy discovery', () => {
  test('/api lists v1 and the server address', () => {
    assert.equal(
      JSON.stringify(apiVersions('10.0.0.5:6443')),
      '{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"10.0.0.5:6443"}]}',
    );
  });

  test('/apis lists every non-core group with its preferred version', () => {
    const list = apiGroupList();
    assert.equal(list.kind, 'APIGroupList');
    assert.equal(list.apiVersion, 'v1');
    assert.equal(list.groups.length, SERVED_GROUPS.length - 1);
    assert.ok(!list.groups.some((g) => g.name === ''));
    const autoscaling = list.groups.find((g) => g.name === 'autoscaling');
    assert.deepEqual(autoscaling, {
      name: 'autoscaling',
      versions: [{ groupVersion: 'autoscaling/v2', version: 'v2' }, { groupVersion: 'autoscaling/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'autoscaling/v2', version: 'v2' },
    });
    const gvs = ['v1', ...list.groups.flatMap((g) => g.versions.map((v) => v.groupVersion))];
    assert.deepEqual(gvs, servedGroupVersions());
  });

  test('/apis/G answers an APIGroup, unknown groups nothing', () => {
    assert.deepEqual(apiGroupDocument('apps'), {
      kind: 'APIGroup', apiVersion: 'v1', name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    });
    assert.equal(apiGroupDocument('nosuch.io'), undefined);
    assert.equal(apiGroup(''), undefined);
  });

  test('/api/v1 lists pods with subresources as separate entries', () => {
    const list = apiResourceList('', 'v1');
    assert.ok(list);
    assert.equal(list.groupVersion, 'v1');
    assert.equal(
      JSON.stringify(entry(list, 'pods')),
      '{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["po"],"categories":["all"]}',
    );
    assert.deepEqual(entry(list, 'pods/log'), { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    assert.equal(
      JSON.stringify(entry(list, 'pods/eviction')),
      '{"name":"pods/eviction","singularName":"","namespaced":true,"group":"policy","version":"v1","kind":"Eviction","verbs":["create"]}',
    );
    assert.deepEqual(entry(list, 'pods/exec').verbs, ['create', 'get']);
    const names = list.resources.map((r) => r.name);
    assert.deepEqual(names.slice(names.indexOf('pods'), names.indexOf('pods') + 3), ['pods', 'pods/attach', 'pods/binding']);
    assert.equal(entry(list, 'namespaces').namespaced, false);
    assert.equal(entry(list, 'configmaps').categories, undefined, 'no empty categories');
    assert.equal(entry(list, 'secrets').shortNames, undefined, 'no empty shortNames');
  });

  test('/apis/apps/v1 lists deployments/scale as autoscaling/v1 Scale', () => {
    const list = apiResourceList('apps', 'v1');
    assert.deepEqual(entry(list, 'deployments/scale'), {
      name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'],
    });
    assert.deepEqual(entry(list, 'deployments/status'), {
      name: 'deployments/status', singularName: '', namespaced: true, kind: 'Deployment', verbs: ['get', 'patch', 'update'],
    });
  });

  test('every served group-version has a resource list; others have none', () => {
    for (const g of SERVED_GROUPS) for (const v of g.versions) assert.ok(apiResourceList(g.name, v)?.resources.length, `${g.name}/${v}`);
    assert.equal(apiResourceList('flowcontrol.apiserver.k8s.io', 'v1'), undefined);
    assert.equal(apiResourceList('apps', 'v1beta1'), undefined);
  });

  test('extra resources (CRDs later) join through the source parameter', () => {
    const source: DiscoverySource = {
      groups: [...SERVED_GROUPS, { name: 'example.com', versions: ['v1'] }],
      resources: [...RESOURCES, {
        group: 'example.com', version: 'v1', kind: 'Widget', listKind: 'WidgetList', resource: 'widgets', singular: 'widget',
        namespaced: true, shortNames: ['wd'], categories: [], verbs: ['get', 'list'], subresources: [], storageVersion: 'v1',
        definition: '',
      }],
    };
    assert.equal(apiGroupList(source).groups.at(-1)?.name, 'example.com');
    assert.deepEqual(entry(apiResourceList('example.com', 'v1', source), 'widgets').shortNames, ['wd']);
    assert.equal(aggregatedDiscovery('apis', source).items.at(-1)?.metadata.name, 'example.com');
  });
});

describe('aggregated discovery', () => {
  test('the content type kubectl dispatches on', () => {
    assert.equal(AGGREGATED_DISCOVERY_CONTENT_TYPE, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  });

  test('/api holds only the core group', () => {
    const doc = aggregatedDiscovery('api');
    assert.equal(doc.kind, 'APIGroupDiscoveryList');
    assert.equal(doc.apiVersion, 'apidiscovery.k8s.io/v2');
    assert.equal(doc.items.length, 1);
    assert.equal(doc.items[0].metadata.name, undefined);
    assert.deepEqual(doc.items[0].versions.map((v) => [v.version, v.freshness]), [['v1', 'Current']]);
    const pods = doc.items[0].versions[0].resources.find((r) => r.resource === 'pods');
    assert.ok(pods);
    assert.deepEqual(pods.responseKind, { group: '', version: 'v1', kind: 'Pod' });
    assert.equal(pods.scope, 'Namespaced');
    assert.equal(pods.singularResource, 'pod');
    assert.deepEqual(pods.shortNames, ['po']);
    assert.deepEqual(pods.categories, ['all']);
    assert.deepEqual(pods.subresources?.find((s) => s.subresource === 'eviction'), {
      subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'],
    });
    const nodes = doc.items[0].versions[0].resources.find((r) => r.resource === 'nodes');
    assert.equal(nodes?.scope, 'Cluster');
  });

  test('/apis holds every other group, preferred version first', () => {
    const doc = aggregatedDiscovery('apis');
    assert.deepEqual(doc.items.map((i) => i.metadata.name), SERVED_GROUPS.slice(1).map((g) => g.name));
    const autoscaling = doc.items.find((i) => i.metadata.name === 'autoscaling');
    assert.deepEqual(autoscaling?.versions.map((v) => v.version), ['v2', 'v1']);
    const apps = doc.items.find((i) => i.metadata.name === 'apps');
    const deploy = apps?.versions[0].resources.find((r) => r.resource === 'deployments');
    assert.equal(
      JSON.stringify(deploy),
      '{"resource":"deployments","responseKind":{"group":"apps","version":"v1","kind":"Deployment"},"scope":"Namespaced","singularResource":"deployment","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["deploy"],"categories":["all"],"subresources":[{"subresource":"scale","responseKind":{"group":"autoscaling","version":"v1","kind":"Scale"},"verbs":["get","patch","update"]},{"subresource":"status","responseKind":{"group":"apps","version":"v1","kind":"Deployment"},"verbs":["get","patch","update"]}]}',
    );
  });
});
