// Scraper rounds: real nodes fetched, simulated ones synthesized, a failing node losing only its
// own points, and the option check.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../api/types/core_v1.ts';
import { Scraper } from './scraper.ts';
import { MetricsStorage } from './storage.ts';
import { SIMULATED_NODE_LABEL } from './sim_usage.ts';
import type { MetricsBatch } from './types.ts';

const ready = { conditions: [{ type: 'Ready', status: 'True' }] };

describe('Scraper', () => {
  test('merges real and simulated nodes; a failing node only loses its own points', async () => {
    const nodes: Node[] = [
      { metadata: { name: 'real' }, status: ready },
      { metadata: { name: 'broken' }, status: ready },
      { metadata: { name: 'sim-0', labels: { [SIMULATED_NODE_LABEL]: 'true' }, creationTimestamp: '2025-01-01T00:00:00Z' }, status: ready },
    ];
    const pods: Pod[] = [{ metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'sim-0', containers: [{ name: 'c' }] }, status: { phase: 'Running', startTime: '2025-01-01T00:00:00Z' } }];
    let round = 0;
    const storage = new MetricsStorage(1000);
    const scraper = new Scraper({
      storage, resolutionMs: 1000,
      nodes: async () => nodes,
      pods: async () => pods,
      async scrapeNode(name): Promise<MetricsBatch> {
        if (name === 'broken') throw new Error('connection refused');
        const t = 1_700_000_000_000 + round * 1000;
        return { nodes: new Map([[name, { startTime: 0, timestamp: t, cumulativeCpuNs: 1e9 + round * 2e8, memoryBytes: 5 }]]), pods: new Map() };
      },
    });
    await scraper.scrapeOnce();
    round++;
    await new Promise((r) => setTimeout(r, 5));
    await scraper.scrapeOnce();
    assert.equal(storage.nodeUsage('real')?.usage.cpuNanoCores, 200_000_000);
    assert.equal(storage.nodeUsage('broken'), undefined);
    assert.ok(storage.nodeUsage('sim-0'), 'simulated node');
    assert.ok(storage.podUsage('default', 'p'), 'pod on the simulated node');
    await scraper.dispose();
  });

  test('the period must be positive', () => {
    assert.throws(() => new Scraper({ storage: new MetricsStorage(1), resolutionMs: 0, nodes: async () => [], pods: async () => [], scrapeNode: async () => ({ nodes: new Map(), pods: new Map() }) }), /resolutionMs/);
  });
});
