// Unit tests of the Deployment helpers: fenceposts and percentages, proportions, revisions and
// their history annotation, finding the new ReplicaSet, and the progress checks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from '../../api/types/apps_v1.ts';
import {
  deploymentComplete, deploymentTimedOut, equalIgnoreHash, findActiveOrLatest, findNewReplicaSet, getProportion, lastRevision,
  maxSurge, maxUnavailable, newRSNewReplicas, resolveFenceposts, setNewReplicaSetAnnotations,
} from './deployment_util.ts';

function deploy(replicas: number, surge: number | string = '25%', unavailable: number | string = '25%'): Deployment {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: 'd', generation: 1, annotations: { team: 'a' } },
    spec: {
      replicas, selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v1' }] } },
    },
  };
}

function rs(name: string, replicas: number, o: { revision?: string; max?: number; created?: string; image?: string; available?: number } = {}): ReplicaSet {
  const annotations: Record<string, string> = {};
  if (o.revision) annotations['deployment.kubernetes.io/revision'] = o.revision;
  if (o.max !== undefined) annotations['deployment.kubernetes.io/max-replicas'] = String(o.max);
  return {
    metadata: { name, namespace: 'ns', uid: name, annotations, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z' },
    spec: { replicas, selector: {}, template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'c', image: o.image ?? 'v1' }] } } },
    status: { replicas, availableReplicas: o.available ?? replicas },
  };
}

describe('fenceposts', () => {
  test('surge rounds up, unavailable rounds down, both zero means one unavailable', () => {
    assert.deepEqual(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
    assert.deepEqual(resolveFenceposts('25%', '25%', 1), { surge: 1, unavailable: 0 });
    assert.deepEqual(resolveFenceposts(0, '10%', 5), { surge: 0, unavailable: 1 });
    assert.deepEqual(resolveFenceposts(2, 0, 5), { surge: 2, unavailable: 0 });
    assert.throws(() => resolveFenceposts('3', 0, 5), /string is not a percentage/);
  });

  test('maxUnavailable is capped at replicas and zero for Recreate', () => {
    assert.equal(maxUnavailable(deploy(3, 0, 5)), 3);
    assert.equal(maxSurge(deploy(10)), 3);
    const recreate = deploy(3);
    recreate.spec!.strategy = { type: 'Recreate' };
    assert.equal(maxUnavailable(recreate), 0);
    assert.equal(maxSurge(recreate), 0);
  });
});

describe('scaling', () => {
  test('the new ReplicaSet grows within maxSurge and never past replicas', () => {
    const d = deploy(10, 3, 2);
    const newRS = rs('new', 0);
    assert.equal(newRSNewReplicas(d, [rs('old', 10), newRS], newRS), 3);
    assert.equal(newRSNewReplicas(d, [rs('old', 8), rs('new', 3)], rs('new', 3)), 5);
    assert.equal(newRSNewReplicas(d, [rs('old', 0), rs('new', 9)], rs('new', 9)), 10);
  });

  test('proportions follow max-replicas and stay within what may be added', () => {
    const d = deploy(20, 3, 2);
    assert.equal(getProportion(rs('old', 8, { max: 13 }), d, 10, 0), 6);
    assert.equal(getProportion(rs('new', 5, { max: 13 }), d, 10, 6), 4);
    const down = deploy(5, 3, 2);
    assert.equal(getProportion(rs('old', 8, { max: 13 }), down, -5, 0), -3);
    assert.equal(getProportion(rs('old', 8), deploy(0), -13, 0), -8);
  });

  test('findActiveOrLatest picks the only active ReplicaSet or the newest', () => {
    const a = rs('a', 0, { created: '2024-01-01T00:00:00Z' }), b = rs('b', 0, { created: '2024-01-02T00:00:00Z' });
    assert.equal(findActiveOrLatest(undefined, [a, b])?.metadata?.name, 'b');
    assert.equal(findActiveOrLatest(undefined, [a, rs('c', 2)])?.metadata?.name, 'c');
    assert.equal(findActiveOrLatest(rs('n', 1), [rs('c', 2)]), undefined);
  });
});

describe('revisions', () => {
  test('a reused ReplicaSet gets the next revision and remembers the old one', () => {
    const d = deploy(1);
    const old = rs('old', 0, { revision: '1' });
    assert.equal(setNewReplicaSetAnnotations(d, old, '3', true), true);
    assert.equal(old.metadata!.annotations!['deployment.kubernetes.io/revision'], '3');
    assert.equal(old.metadata!.annotations!['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(old.metadata!.annotations!['team'], 'a', 'deployment annotations are copied');
    setNewReplicaSetAnnotations(d, old, '5', true);
    assert.equal(old.metadata!.annotations!['deployment.kubernetes.io/revision-history'], '1,3');
    assert.equal(setNewReplicaSetAnnotations(d, old, '4', true), false, 'never lowers a revision');
  });

  test('a ReplicaSet about to be created records desired and max replicas', () => {
    const fresh = rs('new', 0);
    setNewReplicaSetAnnotations(deploy(4), fresh, '1', false);
    assert.deepEqual(fresh.metadata!.annotations, {
      team: 'a', 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '4', 'deployment.kubernetes.io/max-replicas': '5',
    });
  });

  test('lastRevision is the second highest', () => {
    assert.equal(lastRevision([rs('a', 0, { revision: '3' }), rs('b', 0, { revision: '7' }), rs('c', 0, { revision: '5' })]), 5);
  });

  test('the new ReplicaSet is the oldest whose template matches, ignoring the hash label', () => {
    const d = deploy(1);
    const match = rs('m', 1, { created: '2024-01-02T00:00:00Z' });
    const older = rs('o', 1, { created: '2024-01-01T00:00:00Z' });
    assert.equal(equalIgnoreHash(d.spec!.template, match.spec!.template), true);
    assert.equal(findNewReplicaSet(d, [match, older, rs('x', 1, { image: 'v2' })])?.metadata?.name, 'o');
    assert.equal(findNewReplicaSet(d, [rs('x', 1, { image: 'v2' })]), undefined);
  });

  test('equalIgnoreHash gives fresh copies (remembered by content) the answers of first sight, whatever the key order', () => {
    const a = deploy(1).spec!.template;
    const variants = [a, rs('m', 1).spec!.template, rs('x', 1, { image: 'v2' }).spec!.template, { ...a, metadata: { labels: { ...a.metadata?.labels, extra: 'y' } } }];
    const first = variants.map((x) => variants.map((y) => equalIgnoreHash(x, y)));
    // Copies with the keys in reverse order: other JSON text, the same templates.
    const reversed = (v: unknown): unknown => (Array.isArray(v) ? v.map(reversed) : v !== null && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v);
    for (const copy of [structuredClone, reversed] as const) {
      const again = variants.map((x) => variants.map((y) => equalIgnoreHash(copy(x) as typeof x, copy(y) as typeof y)));
      assert.deepEqual(again, first);
    }
    assert.deepEqual(first.map((row) => row.map(Number)), [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
  });
});

describe('progress', () => {
  test('complete means all updated and available at the observed generation', () => {
    const d = deploy(2);
    assert.equal(deploymentComplete(d, { replicas: 2, updatedReplicas: 2, availableReplicas: 2, observedGeneration: 1 }), true);
    assert.equal(deploymentComplete(d, { replicas: 3, updatedReplicas: 2, availableReplicas: 2, observedGeneration: 1 }), false);
    assert.equal(deploymentComplete(d, { replicas: 2, updatedReplicas: 2, availableReplicas: 2, observedGeneration: 0 }), false);
  });

  test('timed out once lastUpdateTime + progressDeadlineSeconds has passed', () => {
    const d = deploy(2);
    d.spec!.progressDeadlineSeconds = 60;
    const status = { conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: '2024-01-01T00:00:00Z' }] };
    assert.equal(deploymentTimedOut(d, status, Date.UTC(2024, 0, 1, 0, 0, 59)), false);
    assert.equal(deploymentTimedOut(d, status, Date.UTC(2024, 0, 1, 0, 1, 1)), true);
    status.conditions[0]!.reason = 'NewReplicaSetAvailable';
    assert.equal(deploymentTimedOut(d, status, Date.UTC(2024, 0, 2)), false);
  });
});
