// The scheduler cache after upstream's cache_test.go: assumed pods count before binding and are
// confirmed or forgotten; the snapshot is refreshed incrementally and lists nodes zone by zone.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/core_v1.ts';
import { PodInfo } from '../framework/pod_info.ts';
import { makeNode, makePod } from '../framework/testing/wrappers.ts';
import { Cache, CacheError } from './cache.ts';
import { Snapshot } from './snapshot.ts';

const node = (name: string, zone?: string) => {
  const w = makeNode().name(name).capacity({ cpu: '4', memory: '4Gi' });
  if (zone) w.label('topology.kubernetes.io/zone', zone);
  return w.obj();
};
const pod = (name: string, nodeName: string, cpu = '1'): Pod => makePod().name(name).namespace('default').uid(`${name}-uid`).node(nodeName).req({ cpu }).obj();

describe('Cache', () => {
  test('an assumed pod counts on its node until it is forgotten', () => {
    const cache = new Cache();
    cache.addNode(node('n1'));
    const p = pod('a', 'n1');
    cache.assumePod(new PodInfo(p));
    const snap = new Snapshot();
    cache.updateSnapshot(snap);
    assert.equal(snap.get('n1')?.requested.milliCPU, 1000);
    assert.equal(cache.isAssumedPod(p), true);
    cache.forgetPod(p);
    cache.updateSnapshot(snap);
    assert.equal(snap.get('n1')?.requested.milliCPU, 0);
    assert.equal(snap.get('n1')?.numPods, 0);
  });

  test('the informer Add confirms an assumed pod', () => {
    const cache = new Cache();
    cache.addNode(node('n1'));
    const p = pod('a', 'n1');
    cache.assumePod(new PodInfo(p));
    cache.finishBinding(p);
    cache.addPod({ ...p, metadata: { ...p.metadata, resourceVersion: '2' } });
    assert.equal(cache.isAssumedPod(p), false);
    assert.equal(cache.podCount(), 1);
    assert.throws(() => cache.forgetPod(p), CacheError);
  });

  test('assuming a pod twice is an error', () => {
    const cache = new Cache();
    cache.addNode(node('n1'));
    cache.assumePod(new PodInfo(pod('a', 'n1')));
    assert.throws(() => cache.assumePod(new PodInfo(pod('a', 'n1'))), /is in the cache, so can't be assumed/);
  });

  test('update and remove of bound pods keep the sums right', () => {
    const cache = new Cache();
    cache.addNode(node('n1'));
    const p = pod('a', 'n1', '1');
    cache.addPod(p);
    cache.updatePod(p, pod('a', 'n1', '2'));
    const snap = new Snapshot();
    cache.updateSnapshot(snap);
    assert.equal(snap.get('n1')?.requested.milliCPU, 2000);
    cache.removePod(pod('a', 'n1', '2'));
    cache.updateSnapshot(snap);
    assert.equal(snap.get('n1')?.requested.milliCPU, 0);
  });

  test('the snapshot copies only nodes changed since its generation', () => {
    const cache = new Cache();
    for (let i = 0; i < 5; i++) cache.addNode(node(`n${i}`));
    const snap = new Snapshot();
    cache.updateSnapshot(snap);
    const before = snap.nodeInfoList.map((ni) => ni.generation);
    cache.addPod(pod('a', 'n3'));
    cache.updateSnapshot(snap);
    const after = snap.nodeInfoList.map((ni) => ni.generation);
    assert.deepEqual(after.map((g, i) => g !== before[i]), snap.nodeInfoList.map((ni) => ni.name === 'n3'));
  });

  test('the snapshot keeps node objects stable and drops removed nodes', () => {
    const cache = new Cache();
    cache.addNode(node('n1'));
    cache.addNode(node('n2'));
    const snap = new Snapshot();
    cache.updateSnapshot(snap);
    const n1 = snap.get('n1');
    cache.addPod(pod('a', 'n1'));
    cache.updateSnapshot(snap);
    assert.equal(snap.get('n1'), n1, 'same object, updated in place');
    cache.removeNode(node('n2'));
    cache.updateSnapshot(snap);
    assert.deepEqual(snap.nodeInfoList.map((n) => n.name), ['n1']);
  });

  test('a deleted node with pods left stays out of the snapshot', () => {
    const cache = new Cache();
    cache.addNode(node('n1'));
    cache.addNode(node('n2'));
    cache.addPod(pod('a', 'n2'));
    const snap = new Snapshot();
    cache.updateSnapshot(snap);
    cache.removeNode(node('n2'));
    cache.updateSnapshot(snap);
    assert.deepEqual(snap.nodeInfoList.map((n) => n.name), ['n1']);
    assert.equal(snap.get('n2'), undefined);
  });

  test('nodes are listed zone by zone, round-robin', () => {
    const cache = new Cache();
    for (const [n, z] of [['a1', 'a'], ['a2', 'a'], ['a3', 'a'], ['b1', 'b'], ['c1', 'c'], ['c2', 'c']] as const) cache.addNode(node(n, z));
    const snap = new Snapshot();
    cache.updateSnapshot(snap);
    assert.deepEqual(snap.nodeInfoList.map((n) => n.name), ['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  });

  test('pods with affinity are tracked in the snapshot lists', () => {
    const cache = new Cache();
    cache.addNode(node('n1'));
    cache.addNode(node('n2'));
    cache.addPod(makePod().name('x').namespace('d').uid('x').node('n2').podAntiAffinity('zone', { a: 'b' }).obj());
    const snap = new Snapshot();
    cache.updateSnapshot(snap);
    assert.deepEqual(snap.havePodsWithAffinityList().map((n) => n.name), ['n2']);
    assert.deepEqual(snap.havePodsWithRequiredAntiAffinityList().map((n) => n.name), ['n2']);
  });

  test('image states count the nodes an image is on', () => {
    const cache = new Cache();
    cache.addNode(makeNode().name('n1').image(100, 'img:1').obj());
    cache.addNode(makeNode().name('n2').image(100, 'img:1').obj());
    const snap = new Snapshot();
    cache.updateSnapshot(snap);
    assert.equal(snap.get('n1')?.imageStates.get('img:1')?.numNodes, 2);
  });
});
