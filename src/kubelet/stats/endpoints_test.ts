// The stats and metrics endpoints: which paths they serve, only_cpu_and_memory, and what a runtime
// failure turns into (a 500 for the summary, resource_scrape_error 1 for the metrics).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeService } from '../cri/types.ts';
import { KubeletError } from '../server/types.ts';
import { metricsEndpoint, statsEndpoint } from './endpoints.ts';
import { StatsProvider } from './provider.ts';

function provider(fail: boolean): StatsProvider {
  const runtime = {
    async listPodSandbox() {
      if (fail) throw new Error('connection refused');
      return [];
    },
    async listContainers() { return []; },
    async listContainerStats() { return []; },
  } as unknown as RuntimeService;
  return new StatsProvider({ runtime, nodeName: 'n1', now: () => 1_700_000_000_000 });
}

describe('stats endpoints', () => {
  test('/stats/summary answers JSON; other stats paths are 404', async () => {
    const ok = await statsEndpoint(provider(false), ['summary'], new URLSearchParams('only_cpu_and_memory=true'));
    assert.equal(ok.contentType, 'application/json');
    const s = JSON.parse(ok.body) as { node: { nodeName: string; fs?: unknown }; pods: unknown[] };
    assert.equal(s.node.nodeName, 'n1');
    assert.equal(s.node.fs, undefined);
    assert.deepEqual(s.pods, []);
    await assert.rejects(statsEndpoint(provider(false), ['container'], new URLSearchParams()), (e: unknown) => e instanceof KubeletError && e.code === 404);
  });

  test('a runtime failure is a 500 for the summary and resource_scrape_error 1 for /metrics/resource', async () => {
    await assert.rejects(statsEndpoint(provider(true), ['summary'], new URLSearchParams()),
      (e: unknown) => e instanceof KubeletError && e.code === 500 && e.message === 'Internal Error: failed to get summary stats: connection refused');
    const m = await metricsEndpoint(provider(true), ['resource']);
    assert.equal(m.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(m.body, /^resource_scrape_error 1$/m);
    assert.doesNotMatch(m.body, /node_cpu/);
    await assert.rejects(metricsEndpoint(provider(false), ['cadvisor']), (e: unknown) => e instanceof KubeletError && e.code === 404);
  });
});
