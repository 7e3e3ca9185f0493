// Victim ordering helpers against plain versions: sortByImportance (an insertion sort for a node's
// few pods) must order exactly as a stable sort by MoreImportantPod does, and podStartTime's parse
// cache must answer as Date.parse.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PodInfo } from '../../framework/pod_info.ts';
import { rng } from '../../framework/testing/random_cluster.ts';
import { makePod } from '../../framework/testing/wrappers.ts';
import { filterPodsWithPDBViolation, moreImportantPod, podStartTime, sortByImportance } from './victims.ts';

describe('sortByImportance', () => {
  test('orders as a stable sort by MoreImportantPod, for few and many pods', () => {
    const random = rng(11);
    const now = Date.parse('2024-06-01T00:00:00Z');
    const starts = ['2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z', '2024-03-01T10:00:00Z', undefined];
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(random() * 30);
      const pods = Array.from({ length: n }, (_, i) => {
        const w = makePod().name(`p${i}`).priority(Math.floor(random() * 3) * 100 - 100);
        const s = starts[Math.floor(random() * starts.length)];
        if (s !== undefined) w.startTime(s);
        return new PodInfo(w.obj());
      });
      const want = pods.slice().sort((a, b) => (moreImportantPod(a.pod, b.pod, now) ? -1 : moreImportantPod(b.pod, a.pod, now) ? 1 : 0));
      const got = pods.slice();
      sortByImportance(got, now);
      assert.deepEqual(got.map((p) => p.name), want.map((p) => p.name), `round ${round}`);
    }
  });
});

describe('podStartTime', () => {
  test('parses start times (again from its cache) and falls back to now', () => {
    const pod = makePod().startTime('2024-01-02T03:04:05Z').obj();
    for (let i = 0; i < 2; i++) assert.equal(podStartTime(pod, 7), Date.parse('2024-01-02T03:04:05Z'));
    assert.equal(podStartTime(makePod().obj(), 7), 7);
    assert.equal(podStartTime(makePod().startTime('not a time').obj(), 7), 7);
  });
});

describe('filterPodsWithPDBViolation', () => {
  test('without PDBs every pod is non-violating, in order, in a new array', () => {
    const pods = [new PodInfo(makePod().name('a').labels({ x: '1' }).obj()), new PodInfo(makePod().name('b').obj())];
    const r = filterPodsWithPDBViolation(pods, []);
    assert.deepEqual(r.violating, []);
    assert.deepEqual(r.nonViolating.map((p) => p.name), ['a', 'b']);
    assert.notEqual(r.nonViolating, pods);
  });
});
