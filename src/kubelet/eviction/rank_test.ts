import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/core_v1.ts';
import { evictionMessage, podRequest, rankPods } from './rank.ts';
import { parseThresholds } from './thresholds.ts';
import { Signal, type Observation, type PodUsage } from './types.ts';

const Mi = 1024 * 1024;

function pod(name: string, opts: { memRequest?: string; priority?: number; storageRequest?: string; emptyDir?: string } = {}): Pod {
  const requests: Record<string, string> = {};
  if (opts.memRequest) requests['memory'] = opts.memRequest;
  if (opts.storageRequest) requests['ephemeral-storage'] = opts.storageRequest;
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: {
      containers: [{ name: 'c', image: 'busybox', resources: { requests } }],
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.emptyDir ? { volumes: [{ name: opts.emptyDir, emptyDir: {} }] } : {}),
    },
  };
}

function usage(p: Pod, memMi: number, diskMi = 0, volumeMi = 0): PodUsage {
  const volumes = new Map<string, { bytes: number; inodes: number }>();
  for (const v of p.spec?.volumes ?? []) volumes.set(v.name, { bytes: volumeMi * Mi, inodes: 1 });
  return {
    uid: p.metadata!.uid!,
    containers: [{ name: 'c', memoryWorkingSet: memMi * Mi, rootfs: { bytes: diskMi * Mi, inodes: 10 }, logs: { bytes: 0, inodes: 1 } }],
    volumes,
  };
}

const names = (pods: Pod[]): string[] => pods.map((p) => p.metadata!.name!);

describe('eviction ranking', () => {
  test('memory: pods over their request first, then lower priority, then the most above request', () => {
    const be = pod('besteffort');
    const burstOver = pod('burstable-over', { memRequest: '10Mi' });
    const guaranteedUnder = pod('guaranteed-under', { memRequest: '100Mi' });
    const important = pod('important-over', { priority: 1000 });
    const u = new Map([
      [be.metadata!.uid!, usage(be, 5)],
      [burstOver.metadata!.uid!, usage(burstOver, 50)],
      [guaranteedUnder.metadata!.uid!, usage(guaranteedUnder, 90)],
      [important.metadata!.uid!, usage(important, 500)],
    ]);
    const ranked = rankPods([guaranteedUnder, important, be, burstOver], Signal.MemoryAvailable, u, false);
    assert.deepEqual(names(ranked), ['burstable-over', 'besteffort', 'important-over', 'guaranteed-under']);
  });

  test('a pod without stats is evicted first', () => {
    const a = pod('a');
    const b = pod('b');
    const ranked = rankPods([a, b], Signal.MemoryAvailable, new Map([[a.metadata!.uid!, usage(a, 100)]]), false);
    assert.deepEqual(names(ranked), ['b', 'a']);
  });

  test('disk: writable layer, logs and emptyDirs count against the ephemeral-storage request', () => {
    const small = pod('small', { storageRequest: '1Gi' });
    const vol = pod('with-volume', { emptyDir: 'scratch' });
    const layer = pod('big-layer');
    const u = new Map([
      [small.metadata!.uid!, usage(small, 0, 500)],
      [vol.metadata!.uid!, usage(vol, 0, 1, 300)],
      [layer.metadata!.uid!, usage(layer, 0, 200)],
    ]);
    assert.deepEqual(names(rankPods([small, layer, vol], Signal.NodeFsAvailable, u, false)), ['with-volume', 'big-layer', 'small']);
    // with a dedicated image filesystem, imagefs pressure looks at writable layers only
    assert.deepEqual(names(rankPods([small, layer, vol], Signal.ImageFsAvailable, u, true)), ['big-layer', 'with-volume', 'small']);
  });

  test('podRequest sums app containers and takes the largest init container', () => {
    const p: Pod = {
      spec: {
        initContainers: [{ name: 'i', resources: { requests: { memory: '300Mi' } } }],
        containers: [{ name: 'a', resources: { requests: { memory: '100Mi' } } }, { name: 'b', resources: { requests: { memory: '50Mi' } } }],
      },
    };
    assert.equal(podRequest(p, 'memory'), 300 * Mi);
    p.spec!.initContainers![0]!.resources!.requests!['memory'] = '10Mi';
    assert.equal(podRequest(p, 'memory'), 150 * Mi);
  });

  test('the eviction message says the threshold, what was available and which container used more than it asked for', () => {
    const p = pod('hungry', { memRequest: '10Mi' });
    const thresholds = parseThresholds({ 'memory.available': '100Mi' });
    const obs = new Map<Signal, Observation>([[Signal.MemoryAvailable, { available: 95 * Mi + 4096, capacity: 1024 * Mi }]]);
    const { message, annotations } = evictionMessage('memory', p, usage(p, 40), thresholds, obs);
    assert.equal(message, 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 97284Ki. Container c was using 40Mi, request is 10Mi, has larger consumption of memory. ');
    assert.deepEqual(annotations, { offending_containers: 'c', offending_containers_usage: '40Mi', starved_resource: 'memory' });
    const be = pod('be');
    assert.match(evictionMessage('memory', be, usage(be, 1), thresholds, obs).message, /Container c was using 1Mi, request is 0, has larger consumption of memory\. $/);
  });
});
