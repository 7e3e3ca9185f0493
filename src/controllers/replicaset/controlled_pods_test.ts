// ControlledPods against a brute-force grouping of the same cache: after every add, update, delete
// and relist of a random sequence, the groups hold exactly the active controlled pods by label set.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/core_v1.ts';
import { CONTROLLER_UID_INDEX, controllerUidIndexFunc, Indexer } from '../../client/indexer.ts';
import { isPodActive, isPodReady } from '../controller_utils.ts';
import { ControlledPods } from './controlled_pods.ts';

/** A small deterministic PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomPod(r: () => number, name: string, rv: number): Pod {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const owner = pick(['rs-1', 'rs-2', undefined]);
  const labels = pick<Record<string, string> | undefined>([{ app: 'web' }, { app: 'web', 'pod-template-hash': 'h1' }, { 'pod-template-hash': 'h1', app: 'web' }, { app: 'db' }, undefined]);
  return {
    metadata: {
      name, namespace: pick(['a', 'b']), uid: `uid-${name}-${rv}`, resourceVersion: String(rv),
      ...(labels ? { labels: { ...labels } } : {}),
      ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: owner, controller: r() < 0.9 }] } : {}),
      ...(r() < 0.1 ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    spec: { containers: [] },
    status: { phase: pick(['Pending', 'Running', 'Running', 'Succeeded']), conditions: [{ type: 'Ready', status: r() < 0.5 ? 'True' : 'False' }] },
  };
}

/** "uid ns labels → sorted pod names / ready count", from the pods themselves. */
function expected(indexer: Indexer<Pod>): string[] {
  const out = new Map<string, { names: string[]; ready: number }>();
  for (const uid of ['rs-1', 'rs-2']) {
    for (const p of indexer.byIndex(CONTROLLER_UID_INDEX, uid)) {
      if (!isPodActive(p)) continue;
      const labels = Object.entries(p.metadata?.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
      const k = `${uid} ${p.metadata?.namespace} ${JSON.stringify(labels)}`;
      const e = out.get(k) ?? { names: [], ready: 0 };
      e.names.push(p.metadata!.name!);
      if (isPodReady(p)) e.ready++;
      out.set(k, e);
    }
  }
  return [...out].map(([k, e]) => `${k} → ${e.names.sort().join(',')} / ${e.ready}`).sort();
}

function actual(cp: ControlledPods): string[] {
  const out: string[] = [];
  for (const uid of ['rs-1', 'rs-2']) {
    for (const g of cp.groups(uid)) {
      const labels = Object.entries(g.labels).sort(([a], [b]) => (a < b ? -1 : 1));
      const names = [...g.pods.values()].map((p) => p.metadata!.name!).sort();
      assert.ok(names.length > 0, 'no empty groups are kept');
      out.push(`${uid} ${g.namespace} ${JSON.stringify(labels)} → ${names.join(',')} / ${g.ready}`);
    }
  }
  return out.sort();
}

describe('ControlledPods', () => {
  test('mirrors the cache through adds, updates, deletes and relists', () => {
    const r = rng(7);
    const indexer = new Indexer<Pod>({ [CONTROLLER_UID_INDEX]: controllerUidIndexFunc });
    indexer.add(randomPod(r, 'p0', 0));
    const cp = new ControlledPods(indexer);
    for (let step = 1; step < 3000; step++) {
      const name = `p${Math.floor(r() * 40)}`;
      const op = r();
      if (op < 0.7) indexer.add(randomPod(r, name, step));
      else if (op < 0.98) indexer.deleteByKey(`a/${name}`) ?? indexer.deleteByKey(`b/${name}`);
      else indexer.replace(Array.from({ length: 10 }, (_, i) => randomPod(r, `p${i}`, step)));
      assert.deepEqual(actual(cp), expected(indexer), `after step ${step}`);
    }
    cp.dispose();
    indexer.add(randomPod(r, 'after', 9999));
    assert.ok(!actual(cp).some((l) => l.includes('after')), 'a disposed view no longer follows the cache');
  });

  test('groupOf tells which group a pod is counted in', () => {
    const indexer = new Indexer<Pod>({ [CONTROLLER_UID_INDEX]: controllerUidIndexFunc });
    const cp = new ControlledPods(indexer);
    const pod = randomPod(rng(1), 'x', 1);
    pod.metadata!.namespace = 'a';
    pod.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs-1', uid: 'rs-1', controller: true }];
    pod.status = { phase: 'Running' };
    delete pod.metadata!.deletionTimestamp;
    indexer.add(pod);
    assert.equal(cp.groupOf('a/x'), [...cp.groups('rs-1')][0]);
    indexer.add({ ...pod, status: { phase: 'Succeeded' } });
    assert.equal(cp.groupOf('a/x'), undefined, 'finished pods are not counted');
    assert.equal([...cp.groups('rs-1')].length, 0);
  });
});
