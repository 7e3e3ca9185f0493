// MetricsStorage: usage needs two points, CPU is the counter's rate over the window, restarts and
// stale points are handled as metrics-server does.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsStorage, podPoint, resourceUsage } from './storage.ts';
import type { MetricsBatch, MetricsPoint } from './types.ts';

const T = 1_700_000_000_000;

function p(timestamp: number, cpuSeconds: number, memoryBytes: number, startTime = T - 60_000): MetricsPoint {
  return { startTime, timestamp, cumulativeCpuNs: cpuSeconds * 1e9, memoryBytes };
}

function batch(node: MetricsPoint | undefined, pods: Record<string, Record<string, MetricsPoint>> = {}): MetricsBatch {
  return {
    nodes: new Map(node ? [['n1', node]] : []),
    pods: new Map(Object.entries(pods).map(([k, cs]) => [k, podPoint(Object.entries(cs))])),
  };
}

describe('MetricsStorage', () => {
  test('resourceUsage: nanocores over the window, the latest working set', () => {
    assert.deepEqual(resourceUsage(p(T + 15_000, 4, 100), p(T, 1, 50)), { cpuNanoCores: 200_000_000, memoryBytes: 100, timestamp: T + 15_000, windowMs: 15_000 });
    assert.equal(resourceUsage(p(T + 15_000, 1, 100), p(T, 4, 50)), undefined, 'the counter went back');
    assert.equal(resourceUsage(p(T, 4, 100), p(T, 1, 50)), undefined, 'no window');
  });

  test('nodes and pods have usage from the second scrape on', () => {
    const s = new MetricsStorage(15_000);
    s.store(batch(p(T, 100, 1000), { 'default/web': { app: p(T, 10, 500), side: p(T, 1, 100) } }));
    assert.equal(s.nodeUsage('n1'), undefined);
    assert.equal(s.podUsage('default', 'web'), undefined);
    assert.equal(s.nodesReady, false);
    s.store(batch(p(T + 10_000, 105, 1100), { 'default/web': { app: p(T + 10_000, 12, 600), side: p(T + 9_000, 1.9, 100) } }));
    assert.equal(s.nodesReady && s.podsReady, true);
    assert.deepEqual(s.nodeUsage('n1'), { name: 'n1', usage: { cpuNanoCores: 500_000_000, memoryBytes: 1100, timestamp: T + 10_000, windowMs: 10_000 } });
    const web = s.podUsage('default', 'web');
    assert.deepEqual(web?.containers.map((c) => [c.name, c.usage.cpuNanoCores, c.usage.memoryBytes]), [['app', 200_000_000, 600], ['side', 100_000_000, 100]]);
    assert.equal(web?.timestamp, T + 9_000, 'the earliest container timestamp');
    assert.equal(web?.windowMs, 9_000);
  });

  test('a restarted container and a pod with a new container wait for another point', () => {
    const s = new MetricsStorage(15_000);
    s.store(batch(undefined, { 'default/web': { app: p(T, 10, 500) } }));
    s.store(batch(undefined, { 'default/web': { app: p(T + 15_000, 1, 500, T + 14_000) } }));
    assert.equal(s.podUsage('default', 'web'), undefined, 'restarted after the last point');
    s.store(batch(undefined, { 'default/web': { app: p(T + 30_000, 2, 500, T + 14_000), extra: p(T + 30_000, 1, 5, T + 29_000) } }));
    assert.equal(s.podUsage('default', 'web'), undefined, 'the new container has no previous point');
    s.store(batch(undefined, { 'default/web': { app: p(T + 45_000, 3, 500, T + 14_000), extra: p(T + 45_000, 2, 5, T + 29_000) } }));
    assert.equal(s.podUsage('default', 'web')?.containers.length, 2);
  });

  test('a container 10 s to one period old gets usage from its start at once', () => {
    const s = new MetricsStorage(60_000);
    s.store(batch(undefined, { 'default/new': { app: p(T + 20_000, 4, 500, T) } }));
    assert.deepEqual(s.podUsage('default', 'new')?.containers[0]?.usage, { cpuNanoCores: 200_000_000, memoryBytes: 500, timestamp: T + 20_000, windowMs: 20_000 });
  });

  test('a repeated point keeps the previous one; vanished nodes and pods are forgotten', () => {
    const s = new MetricsStorage(15_000);
    s.store(batch(p(T, 1, 1)));
    s.store(batch(p(T + 1000, 2, 1)));
    s.store(batch(p(T + 1000, 2, 1)));
    assert.equal(s.nodeUsage('n1')?.usage.cpuNanoCores, 1e9);
    s.store(batch(undefined));
    assert.equal(s.nodeUsage('n1'), undefined);
  });
});
