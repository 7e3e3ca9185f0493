// Unit tests of quota usage calculation: compute resources, counts, scopes and masking.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/core_v1.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import { calculateUsage, quotaScopes, resourcesForHard, toJson } from './evaluators.ts';

const NOW = Date.UTC(2024, 0, 1);

function pod(name: string, cpu?: string, extra: Partial<Pod> = {}): Pod {
  const resources = cpu ? { requests: { cpu, memory: '64Mi' }, limits: { cpu } } : {};
  return { metadata: { name, namespace: 'ns' }, spec: { containers: [{ name: 'c', resources }], ...extra.spec }, status: { phase: 'Running', ...extra.status } };
}

describe('quota usage', () => {
  test('pods: compute resources of live pods, counts of all', () => {
    const objects: Record<string, KubeObject[]> = {
      pods: [pod('a', '100m'), pod('b', '250m'), pod('done', '1', { status: { phase: 'Succeeded' } })],
    };
    const used = calculateUsage(['pods', 'count/pods', 'requests.cpu', 'limits.cpu', 'requests.memory', 'limits.memory'], [], (_g, r) => objects[r], NOW);
    assert.deepEqual(toJson(used), { 'count/pods': '3', 'limits.cpu': '350m', 'limits.memory': '0', pods: '2', 'requests.cpu': '350m', 'requests.memory': '128Mi' });
  });

  test('scopes filter pods', () => {
    const objects: KubeObject[] = [pod('be'), pod('burst', '100m'), pod('job', '100m', { spec: { containers: [{ name: 'c', resources: { requests: { cpu: '100m' } } }], activeDeadlineSeconds: 60 } })];
    const best = calculateUsage(['pods'], quotaScopes({ scopes: ['BestEffort'] }), () => objects, NOW);
    assert.equal(toJson(best).pods, '1');
    const term = calculateUsage(['pods', 'requests.cpu'], quotaScopes({ scopes: ['Terminating'] }), () => objects, NOW);
    assert.deepEqual(toJson(term), { pods: '1', 'requests.cpu': '100m' });
  });

  test('object counts, services and claims map to their resources', () => {
    assert.deepEqual(resourcesForHard(['count/deployments.apps', 'configmaps', 'services.nodeports', 'requests.storage', 'cpu']).map((r) => `${r.resource}.${r.group}`),
      ['deployments.apps', 'configmaps.', 'services.', 'persistentvolumeclaims.', 'pods.']);
    const svcs: KubeObject[] = [{ metadata: { name: 's' }, spec: { type: 'NodePort', ports: [{ port: 1 }, { port: 2 }] } } as KubeObject];
    const pvcs: KubeObject[] = [{ metadata: { name: 'c' }, spec: { storageClassName: 'gold', resources: { requests: { storage: '5Gi' } } } } as KubeObject];
    const used = calculateUsage(['services', 'services.nodeports', 'requests.storage', 'gold.storageclass.storage.k8s.io/requests.storage', 'count/deployments.apps'],
      [], (_g, r) => (r === 'services' ? svcs : r === 'persistentvolumeclaims' ? pvcs : r === 'deployments' ? [{}, {}] : undefined), NOW);
    assert.deepEqual(toJson(used), {
      'count/deployments.apps': '2', 'gold.storageclass.storage.k8s.io/requests.storage': '5Gi', 'requests.storage': '5Gi', services: '1', 'services.nodeports': '2',
    });
  });
});
