// StatsProvider over a fake CRI runtime and a fake procfs: pods from ready sandboxes with their
// running containers, pod totals, CPU rates between rounds, the node from procfs, and the
// /metrics/resource text metrics-server parses.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeService } from '../cri/types.ts';
import type { Container, ContainerStats, PodSandbox } from '../cri/messages.ts';
import { StatsProvider } from './provider.ts';
import { resourceMetricsText } from './resource_metrics.ts';
import { summaryJSON } from './summary_types.ts';

const T0 = 1_700_000_000_000; // ms

function sandbox(id: string, name: string, uid: string, createdAt: number, state: PodSandbox['state'] = 'SANDBOX_READY'): PodSandbox {
  return { id, metadata: { name, namespace: 'default', uid }, state, createdAt: createdAt * 1e6, labels: {}, annotations: {}, runtimeHandler: '' };
}

function container(id: string, sandboxId: string, name: string, createdAt: number): Container {
  return { id, podSandboxId: sandboxId, metadata: { name }, imageRef: '', state: 'CONTAINER_RUNNING', createdAt: createdAt * 1e6, labels: {}, annotations: {}, imageId: '' };
}

function stats(id: string, at: number, cpuNs: number, ws: number): ContainerStats {
  return {
    attributes: { id, labels: {}, annotations: {} },
    cpu: { timestamp: at * 1e6, usageCoreNanoSeconds: { value: cpuNs }, usageNanoCores: { value: 0 } },
    memory: { timestamp: at * 1e6, workingSetBytes: { value: ws }, usageBytes: { value: ws + 4096 }, availableBytes: { value: 0 }, rssBytes: { value: 1024 } },
  };
}

describe('StatsProvider', () => {
  const proc = mkdtempSync(join(tmpdir(), 'tkube-stats-'));
  let now = T0;
  let round = 0;
  const runtime = {
    async listPodSandbox(filter?: { state?: { state: string } }) {
      assert.equal(filter?.state?.state, 'SANDBOX_READY');
      return [sandbox('sb1', 'web', 'u1', T0 - 60_000), sandbox('sb2', 'db', 'u2', T0 - 30_000)];
    },
    async listContainers(filter?: { state?: { state: string } }) {
      assert.equal(filter?.state?.state, 'CONTAINER_RUNNING');
      return [container('c1', 'sb1', 'app', T0 - 59_000), container('c2', 'sb1', 'sidecar', T0 - 59_000), container('c3', 'sb2', 'db', T0 - 29_000), container('cx', 'gone', 'x', T0)];
    },
    async listContainerStats() {
      const at = T0 + round * 10_000;
      return [stats('c1', at, 5e9 + round * 5e9, 8 << 20), stats('c2', at, 1e9, 1 << 20), stats('c3', at, 2e9 + round * 1e9, 3 << 20)];
    },
    async podSandboxStatus(id: string) {
      return { info: { info: JSON.stringify({ pid: id === 'sb1' ? 4242 : 0, config: { log_directory: join(proc, 'logs', id) } }) }, containersStatuses: [], timestamp: 0 };
    },
  } as unknown as RuntimeService;
  const provider = new StatsProvider({ runtime, nodeName: 'n1', rootDir: proc, procRoot: proc, now: () => now });

  before(() => {
    writeFileSync(join(proc, 'stat'), 'cpu  1000 0 500 9000 0 0 0 0 0 0\nbtime 1600000000\n');
    writeFileSync(join(proc, 'meminfo'), 'MemTotal: 4000 kB\nMemFree: 1000 kB\nInactive(file): 500 kB\nAnonPages: 800 kB\n');
    writeFileSync(join(proc, 'vmstat'), 'pgfault 100\npgmajfault 2\n');
    writeFileSync(join(proc, 'loadavg'), '0.1 0.2 0.3 2/345 999\n');
    mkdirSync(join(proc, 'net'));
    mkdirSync(join(proc, '4242', 'net'), { recursive: true });
    const dev = (iface: string): string => `h1\nh2\n${iface}: 100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n`;
    writeFileSync(join(proc, 'net', 'dev'), dev('eth0'));
    writeFileSync(join(proc, '4242', 'net', 'dev'), dev('eth0'));
    mkdirSync(join(proc, 'logs', 'sb1', 'app'), { recursive: true });
    writeFileSync(join(proc, 'logs', 'sb1', 'app', '0.log'), 'x'.repeat(300));
  });
  after(() => rmSync(proc, { recursive: true, force: true }));

  test('pods are ready sandboxes with their running containers, summed; the node comes from procfs', async () => {
    const s = await provider.summary();
    assert.deepEqual(s.pods.map((p) => [p.podRef.name, p.containers.map((c) => c.name)]), [['web', ['app', 'sidecar']], ['db', ['db']]]);
    const web = s.pods[0]!;
    assert.equal(web.podRef.uid, 'u1');
    assert.equal(web.startTime, T0 - 60_000);
    assert.equal(web.cpu?.usageCoreNanoSeconds, 6e9);
    assert.equal(web.cpu?.usageNanoCores, undefined, 'no rate from one sample');
    assert.equal(web.memory?.workingSetBytes, 9 << 20);
    assert.equal(web.containers[0]!.memory?.availableBytes, undefined, 'no limit, no availableBytes');
    assert.equal(web.network?.rxBytes, 100);
    assert.equal(web.containers[0]!.logs?.usedBytes, 300);
    assert.equal(web['ephemeral-storage']?.usedBytes, 300);
    assert.equal(s.pods[1]!.network, undefined, 'no pid, no network');
    assert.equal(s.node.nodeName, 'n1');
    assert.equal(s.node.startTime, 1_600_000_000_000);
    assert.equal(s.node.cpu?.usageCoreNanoSeconds, 1500 * 10_000_000);
    assert.deepEqual(
      { ...s.node.memory, time: 0 },
      { time: 0, availableBytes: 1500 * 1024, usageBytes: 3000 * 1024, workingSetBytes: 2500 * 1024, rssBytes: 800 * 1024, pageFaults: 100, majorPageFaults: 2 },
    );
    assert.deepEqual(s.node.rlimit, { time: now, curproc: 345 }, 'no pid_max file here');
    assert.ok(s.node.fs?.capacityBytes);
    assert.deepEqual(s.node.systemContainers?.map((c) => c.name), ['kubelet', 'pods']);
    assert.equal(s.node.systemContainers?.[1]!.memory?.workingSetBytes, 12 << 20);
    const json = JSON.parse(summaryJSON(s)) as { node: { startTime: string; cpu: { time: string } } };
    assert.equal(json.node.startTime, '2020-09-13T12:26:40Z');
    assert.match(json.node.cpu.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('a second round 10 s later has CPU rates for containers and pods', async () => {
    round = 1;
    now = T0 + 10_000;
    const s = await provider.summary({ onlyCpuAndMemory: true });
    const web = s.pods[0]!;
    assert.equal(web.containers[0]!.cpu?.usageNanoCores, 500_000_000);
    assert.equal(web.containers[1]!.cpu?.usageNanoCores, 0);
    assert.equal(web.cpu?.usageNanoCores, 500_000_000);
    assert.equal(s.pods[1]!.cpu?.usageNanoCores, 100_000_000);
    assert.equal(web.network, undefined, 'only CPU and memory');
    assert.equal(s.node.fs, undefined);
  });

  test('/metrics/resource renders upstream names, labels, sort order and millisecond timestamps', async () => {
    const s = await provider.summary({ onlyCpuAndMemory: true });
    const text = resourceMetricsText(s);
    const at = T0 + 10_000;
    const lines = text.split('\n');
    assert.equal(lines[0], '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds');
    assert.equal(lines[1], '# TYPE container_cpu_usage_seconds_total counter');
    assert.deepEqual(lines.slice(2, 5), [
      `container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"} 10 ${at}`,
      `container_cpu_usage_seconds_total{container="db",namespace="default",pod="db"} 3 ${at}`,
      `container_cpu_usage_seconds_total{container="sidecar",namespace="default",pod="web"} 1 ${at}`,
    ]);
    assert.ok(lines.includes(`container_memory_working_set_bytes{container="app",namespace="default",pod="web"} 8.388608e+06 ${at}`));
    assert.ok(lines.includes(`container_start_time_seconds{container="db",namespace="default",pod="db"} 1.699999971e+09`));
    assert.ok(lines.includes(`pod_cpu_usage_seconds_total{namespace="default",pod="web"} 11 ${at}`));
    assert.ok(lines.includes(`node_cpu_usage_seconds_total 15 ${now}`));
    assert.ok(lines.includes(`node_memory_working_set_bytes 2.56e+06 ${now}`));
    assert.deepEqual(lines.slice(-4), [
      '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
      '# TYPE resource_scrape_error gauge',
      'resource_scrape_error 0',
      '',
    ]);
    const families = lines.filter((l) => l.startsWith('# TYPE')).map((l) => l.split(' ')[2]);
    assert.deepEqual(families, [...families].sort());
  });

  test('a runtime failure leaves only resource_scrape_error 1', () => {
    assert.equal(resourceMetricsText(undefined), [
      '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
      '# TYPE resource_scrape_error gauge',
      'resource_scrape_error 1',
      '',
    ].join('\n'));
  });
});
