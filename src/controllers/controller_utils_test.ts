// Unit tests of the shared controller helpers: deletion ranking, availability, slow start,
// pods from templates, and adoption/release by selector.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { selectorFromSet } from '../api/labels.ts';
import type { Pod } from '../api/types/core_v1.ts';
import { ApiStatusError } from '../client/api_errors.ts';
import { formatTime } from '../client/clock.ts';
import {
  claimObjects, deleteOwnerRefPatch, filterActivePods, getPodFromTemplate, isPodAvailable, lessForDeletion, MAX_CONCURRENT_POD_WRITES, newControllerRef,
  ranksByRelatedPodsOnSameNode, settleLimited, slowStartBatch, sortPodsForDeletion,
} from './controller_utils.ts';

const NOW = Date.UTC(2024, 0, 1, 12);

function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: number; restarts?: number; created?: number; uid?: string; labels?: Record<string, string>; owner?: string; cost?: string } = {}): Pod {
  const p: Pod = {
    metadata: { name, namespace: 'ns', uid: o.uid ?? `uid-${name}`, creationTimestamp: formatTime(o.created ?? NOW - 3600_000), labels: o.labels ?? { app: 'a' } },
    spec: { containers: [{ name: 'c' }], ...(o.node ? { nodeName: o.node } : {}) },
    status: { phase: o.phase ?? 'Running' },
  };
  if (o.cost !== undefined) p.metadata!.annotations = { 'controller.kubernetes.io/pod-deletion-cost': o.cost };
  if (o.owner) p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: o.owner, controller: true }];
  if (o.ready !== undefined) p.status!.conditions = [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: formatTime(o.readySince ?? NOW - 600_000) }];
  if (o.restarts !== undefined) p.status!.containerStatuses = [{ name: 'c', restartCount: o.restarts, image: 'x', imageID: '', ready: true }];
  return p;
}

function order(pods: Pod[], ranks = pods.map(() => 0)): string[] {
  return sortPodsForDeletion(pods, ranks, NOW).map((p) => p.metadata!.name!);
}

describe('deletion ranking (ActivePodsWithRanks)', () => {
  test('unassigned before assigned, pending before unknown before running, not ready before ready', () => {
    assert.deepEqual(order([pod('run', { node: 'n', ready: true }), pod('unassigned')]), ['unassigned', 'run']);
    assert.deepEqual(order([pod('r', { node: 'n', phase: 'Running' }), pod('u', { node: 'n', phase: 'Unknown' }), pod('p', { node: 'n', phase: 'Pending' })]), ['p', 'u', 'r']);
    assert.deepEqual(order([pod('ready', { node: 'n', ready: true }), pod('notready', { node: 'n', ready: false })]), ['notready', 'ready']);
  });

  test('lower deletion cost, then more co-located pods go first', () => {
    assert.deepEqual(order([pod('expensive', { node: 'n', ready: true, cost: '100' }), pod('cheap', { node: 'n', ready: true, cost: '-5' })]), ['cheap', 'expensive']);
    const a = pod('a', { node: 'n1', ready: true }), b = pod('b', { node: 'n2', ready: true });
    const ranks = ranksByRelatedPodsOnSameNode([a, b], [a, b, pod('x', { node: 'n2' }), pod('y', { node: 'n2' })]);
    assert.deepEqual(ranks, [1, 3]);
    assert.deepEqual(order([a, b], ranks), ['b', 'a']);
  });

  test('ready more recently, then more restarts, then newer go first (log2 buckets)', () => {
    const recent = pod('recent', { node: 'n', ready: true, readySince: NOW - 10_000 });
    const old = pod('old', { node: 'n', ready: true, readySince: NOW - 10_000_000 });
    assert.deepEqual(order([old, recent]), ['recent', 'old']);
    assert.deepEqual(order([pod('calm', { node: 'n', restarts: 0 }), pod('crashy', { node: 'n', restarts: 5 })]), ['crashy', 'calm']);
    assert.deepEqual(order([pod('older', { node: 'n', created: NOW - 10_000_000 }), pod('newer', { node: 'n', created: NOW - 1000 })]), ['newer', 'older']);
    // Same log2 bucket of age: ties broken by UID.
    assert.deepEqual(order([pod('b', { node: 'n', created: NOW - 100_000, uid: 'b' }), pod('a', { node: 'n', created: NOW - 101_000, uid: 'a' })]), ['a', 'b']);
  });

  test('the sort on precomputed keys gives the order of lessForDeletion itself, ties and odd values included', () => {
    let seed = 11;
    const r = (): number => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    for (let round = 0; round < 20; round++) {
      const pods = Array.from({ length: 200 }, (_, i) => {
        const p = pod(`p${i}`, {
          node: pick(['', 'n1', 'n2']), phase: pick(['Pending', 'Running', 'Unknown', 'Weird']), uid: pick(['a', 'b', `u${i}`]),
          created: pick([NOW - 1000, NOW - 100_000, NOW - 101_000, NOW - 10_000_000]), restarts: pick([0, 0, 3]),
          ...(r() < 0.8 ? { ready: r() < 0.7, readySince: pick([NOW - 5000, NOW - 6000, NOW - 9_000_000]) } : {}),
          ...(r() < 0.3 ? { cost: pick(['5', '-5', 'x', '99999999999']) } : {}),
        });
        if (r() < 0.05) delete p.metadata!.creationTimestamp;
        return p;
      });
      const ranks = pods.map(() => pick([0, 1, 2]));
      const idx = pods.map((_, i) => i).sort((i, j) => {
        if (lessForDeletion(pods[i]!, ranks[i]!, pods[j]!, ranks[j]!, NOW)) return -1;
        if (lessForDeletion(pods[j]!, ranks[j]!, pods[i]!, ranks[i]!, NOW)) return 1;
        return 0;
      });
      assert.deepEqual(order(pods, ranks), idx.map((i) => pods[i]!.metadata!.name!), `round ${round}`);
    }
  });
});

describe('pod helpers', () => {
  test('isPodAvailable honours minReadySeconds', () => {
    const p = pod('p', { ready: true, readySince: NOW - 5000 });
    assert.equal(isPodAvailable(p, 0, NOW), true);
    assert.equal(isPodAvailable(p, 4, NOW), true);
    assert.equal(isPodAvailable(p, 5, NOW), false);
    assert.equal(isPodAvailable(pod('q', { ready: false }), 0, NOW), false);
  });

  test('filterActivePods drops finished and deleting pods', () => {
    const deleting = pod('d');
    deleting.metadata!.deletionTimestamp = formatTime(NOW);
    const names = filterActivePods([pod('ok'), pod('done', { phase: 'Succeeded' }), pod('failed', { phase: 'Failed' }), deleting]).map((p) => p.metadata!.name);
    assert.deepEqual(names, ['ok']);
  });

  test('getPodFromTemplate copies labels, annotations and finalizers and sets the controller ref', () => {
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'ns', uid: 'u1' } };
    const ref = newControllerRef(owner, { apiVersion: 'apps/v1', kind: 'ReplicaSet' });
    const p = getPodFromTemplate({ metadata: { labels: { a: 'b' }, annotations: { x: 'y' }, finalizers: ['f'], name: 'ignored' }, spec: { containers: [{ name: 'c', image: 'i' }] } }, owner, ref);
    assert.deepEqual(p.metadata, {
      generateName: 'web-', labels: { a: 'b' }, annotations: { x: 'y' }, finalizers: ['f'],
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true }],
    });
    assert.equal(p.spec!.containers[0]!.image, 'i');
  });
});

describe('slowStartBatch', () => {
  test('runs batches of 1, 2, 4 … and stops after a failing batch', async () => {
    let calls = 0;
    const r = await slowStartBatch(10, 1, async () => {
      calls++;
      if (calls > 3) throw new Error('quota');
    });
    assert.equal(calls, 7);
    assert.equal(r.successes, 3);
    assert.equal((r.error as Error).message, 'quota');
    let all = 0;
    assert.deepEqual(await slowStartBatch(10, 1, async () => { all++; }), { successes: 10 });
    assert.equal(all, 10);
  });

  test('a batch of 500 has at most MAX_CONCURRENT_POD_WRITES calls in flight, and every one is made', async () => {
    let inFlight = 0, peak = 0, calls = 0;
    const r = await slowStartBatch(500, 500, async () => {
      calls++;
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    });
    assert.deepEqual(r, { successes: 500 });
    assert.equal(calls, 500);
    assert.equal(peak, MAX_CONCURRENT_POD_WRITES);
  });
});

describe('settleLimited', () => {
  test('settles like Promise.allSettled, in index order, with at most `limit` in flight', async () => {
    let inFlight = 0, peak = 0;
    const fn = async (i: number): Promise<number> => {
      peak = Math.max(peak, ++inFlight);
      // Later indexes finish first: the order of results must not follow completion.
      await new Promise((resolve) => setTimeout(resolve, (10 - i) * 2));
      inFlight--;
      if (i % 3 === 0) throw new Error(`no ${i}`);
      return i * i;
    };
    const got = await settleLimited(10, 4, fn);
    const want = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => fn(i)));
    assert.deepEqual(got.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
      want.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)));
    assert.equal(peak, 10, 'the unlimited reference run had all ten in flight');
    peak = 0;
    await settleLimited(10, 4, fn);
    assert.equal(peak, 4);
    assert.deepEqual(await settleLimited(0, 4, fn), []);
  });
});

describe('claimObjects', () => {
  const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'ns', uid: 'owner' } };
  const kind = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };

  test('adopts matching orphans, keeps matching owned, releases owned non-matching, ignores others', async () => {
    const patches: [string, unknown][] = [];
    let canAdoptCalls = 0;
    const claimed = await claimObjects<Pod>([
      pod('orphan'), pod('mine', { owner: 'owner' }), pod('moved', { owner: 'owner', labels: { app: 'other' } }),
      pod('theirs', { owner: 'someone' }), pod('stranger', { labels: { app: 'other' } }),
    ], {
      controller: owner, controllerKind: kind, selector: selectorFromSet({ app: 'a' }),
      canAdopt: async () => { canAdoptCalls++; },
      patch: async (p, patch) => { patches.push([p.metadata!.name!, patch]); },
    });
    assert.deepEqual(claimed.map((p) => p.metadata!.name), ['orphan', 'mine']);
    assert.equal(canAdoptCalls, 1);
    assert.deepEqual(Object.fromEntries(patches), {
      orphan: { metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'owner', controller: true, blockOwnerDeletion: true }], uid: 'uid-orphan' } },
      moved: deleteOwnerRefPatch('uid-moved', 'owner'),
    });
  });

  test('an owner that may not adopt claims no orphans and reports the error; NotFound is ignored', async () => {
    await assert.rejects(claimObjects<Pod>([pod('orphan')], {
      controller: owner, controllerKind: kind, selector: selectorFromSet({ app: 'a' }),
      canAdopt: async () => { throw new Error('ns/rs has just been deleted'); },
      patch: async () => undefined,
    }), /just been deleted/);
    const notFound = new ApiStatusError({ kind: 'Status', code: 404, reason: 'NotFound', message: 'gone' });
    const claimed = await claimObjects<Pod>([pod('orphan')], {
      controller: owner, controllerKind: kind, selector: selectorFromSet({ app: 'a' }),
      canAdopt: async () => undefined,
      patch: async () => { throw notFound; },
    });
    assert.deepEqual(claimed, []);
  });
});
