// Unit tests of the namespace deleter: content deletion per resource, the wait for pods and
// finalizers, the deletion conditions, and finalization through /finalize.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES } from '../../api/resource_table.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { Namespace } from '../../api/types/core_v1.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import { NamespacedResourcesDeleter, ResourcesRemainingError, type NamespaceDeleterClient } from './namespaced_resources_deleter.ts';

const NOW = Date.UTC(2024, 0, 1);

function res(group: string, resource: string): ResourceInfo {
  return RESOURCES.find((r) => r.group === group && r.resource === resource)!;
}

class FakeNsClient implements NamespaceDeleterClient {
  ns: Namespace = { metadata: { name: 'x', deletionTimestamp: '2024-01-01T00:00:00Z' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
  readonly content = new Map<string, KubeObject[]>();
  readonly actions: string[] = [];
  /** Objects that survive deleteCollection (held by finalizers). */
  readonly sticky = new Set<string>();
  async getNamespace(): Promise<Namespace> { return structuredClone(this.ns); }
  async updateNamespaceStatus(ns: Namespace): Promise<Namespace> { this.actions.push(`status ${ns.status?.phase}`); this.ns = structuredClone(ns); return ns; }
  async finalizeNamespace(ns: Namespace): Promise<Namespace> { this.actions.push(`finalize ${JSON.stringify(ns.spec?.finalizers)}`); return ns; }
  async deleteCollection(r: ResourceInfo): Promise<boolean> {
    this.actions.push(`deletecollection ${r.resource}`);
    this.content.set(r.resource, (this.content.get(r.resource) ?? []).filter((o) => this.sticky.has(o.metadata!.name!)));
    return true;
  }
  async list(r: ResourceInfo): Promise<KubeObject[]> { return this.content.get(r.resource) ?? []; }
  async delete(): Promise<void> { throw new Error('unexpected'); }
}

describe('namespaced resources deleter', () => {
  test('an empty namespace is marked Terminating, swept and finalized', async () => {
    const api = new FakeNsClient();
    const d = new NamespacedResourcesDeleter(api, () => NOW, () => [res('', 'configmaps'), res('apps', 'deployments')]);
    await d.delete('x');
    assert.deepEqual(api.actions, ['status Terminating', 'deletecollection configmaps', 'deletecollection deployments', 'status Terminating', 'finalize []']);
    const conds = Object.fromEntries(api.ns.status!.conditions!.map((c) => [c.type, `${c.status} ${c.reason} ${c.message}`]));
    assert.deepEqual(conds, {
      NamespaceDeletionDiscoveryFailure: 'False ResourcesDiscovered All resources successfully discovered',
      NamespaceDeletionGroupVersionParsingFailure: 'False ParsedGroupVersions All legacy kube types successfully parsed',
      NamespaceDeletionContentFailure: 'False ContentDeleted All content successfully deleted, may be waiting on finalization',
      NamespaceContentRemaining: 'False ContentRemoved All content successfully removed',
      NamespaceFinalizersRemaining: 'False ContentHasNoFinalizers All content-preserving finalizers finished',
    });
  });

  test('running pods make it wait for their grace period', async () => {
    const api = new FakeNsClient();
    api.content.set('pods', [{ metadata: { name: 'p' }, spec: { terminationGracePeriodSeconds: 30, containers: [] }, status: { phase: 'Running' } } as KubeObject]);
    const d = new NamespacedResourcesDeleter(api, () => NOW, () => [res('', 'pods')]);
    await assert.rejects(d.delete('x'), (err) => err instanceof ResourcesRemainingError && err.estimate === 30);
    assert.ok(!api.actions.some((a) => a.startsWith('finalize')));
  });

  test('objects held by finalizers are reported and waited for', async () => {
    const api = new FakeNsClient();
    api.content.set('configmaps', [{ metadata: { name: 'held', finalizers: ['example.com/hold'] } }]);
    api.sticky.add('held');
    const d = new NamespacedResourcesDeleter(api, () => NOW, () => [res('', 'configmaps')]);
    await assert.rejects(d.delete('x'), (err) => err instanceof ResourcesRemainingError && err.estimate === 5);
    const conds = Object.fromEntries(api.ns.status!.conditions!.map((c) => [c.type, `${c.status} ${c.reason} ${c.message}`]));
    assert.equal(conds['NamespaceContentRemaining'], 'True SomeResourcesRemain Some resources are remaining: configmaps. has 1 resource instances');
    assert.equal(conds['NamespaceFinalizersRemaining'], 'True SomeFinalizersRemain Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
  });

  test('a namespace not being deleted, or already finalized, is left alone', async () => {
    const api = new FakeNsClient();
    delete api.ns.metadata!.deletionTimestamp;
    await new NamespacedResourcesDeleter(api, () => NOW, () => [res('', 'pods')]).delete('x');
    assert.deepEqual(api.actions, []);
    const done = new FakeNsClient();
    done.ns.spec!.finalizers = [];
    done.ns.status!.phase = 'Terminating';
    await new NamespacedResourcesDeleter(done, () => NOW, () => [res('', 'pods')]).delete('x');
    assert.deepEqual(done.actions, []);
  });
});
