// MetricsApi over a fixed storage and object set: NodeMetrics/PodMetrics shapes (nanocore and Ki
// quantities, window, timestamp, labels), metrics-server's not-found errors, selectors, the Table,
// discovery, and simulated nodes' synthesized points.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../api/types/core_v1.ts';
import { BUILTIN_DISCOVERY, aggregatedDiscovery, apiGroupList, apiResourceList } from '../../api/discovery.ts';
import { parseSelector } from '../../api/labels.ts';
import { parseFieldSelector } from '../../api/fields.ts';
import { ApiError } from '../errors.ts';
import { MetricsApi, metricsTable, usageQuantities } from './api.ts';
import { MetricsStorage, podPoint, resourceUsage } from './storage.ts';
import { simulatedBatch } from './sim_usage.ts';

const T = Date.parse('2025-01-02T03:04:05Z');

const nodes: Node[] = [
  { metadata: { name: 'n2', labels: { zone: 'b' } } },
  { metadata: { name: 'n1', labels: { zone: 'a' } } },
  { metadata: { name: 'idle' } },
];
const pods: Pod[] = [
  { metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } } },
  { metadata: { name: 'db', namespace: 'prod', labels: { app: 'db' } } },
  { metadata: { name: 'new', namespace: 'default' } },
];

function storage(): MetricsStorage {
  const s = new MetricsStorage(15_000);
  const pt = (ts: number, cpu: number, mem: number) => ({ startTime: T - 60_000, timestamp: ts, cumulativeCpuNs: cpu, memoryBytes: mem });
  s.store({
    nodes: new Map([['n1', pt(T, 1e9, 1 << 30)], ['n2', pt(T, 1e9, 1 << 30)]]),
    pods: new Map([['default/web', podPoint([['app', pt(T, 1e9, 1 << 20)], ['side', pt(T, 1e9, 1 << 20)]])], ['prod/db', podPoint([['db', pt(T, 1e9, 1 << 20)]])]]),
  });
  s.store({
    nodes: new Map([['n1', pt(T + 15_000, 16e9, (1 << 30) + 4096)], ['n2', pt(T + 15_000, 1e9 + 15 * 12345, 1 << 30)]]),
    pods: new Map([['default/web', podPoint([['app', pt(T + 15_000, 1e9 + 3e9, 17 << 20)], ['side', pt(T + 15_500, 1e9 + 15_500, 1 << 20)]])], ['prod/db', podPoint([['db', pt(T + 15_000, 2e9, 4096 + 100)]])]]),
  });
  return s;
}

const api = new MetricsApi(storage(), {
  nodes: async () => nodes,
  pods: async (ns) => pods.filter((p) => ns === '' || p.metadata?.namespace === ns),
}, () => T + 20_000);

const all = { labels: parseSelector(''), fields: parseFieldSelector('') };

describe('MetricsApi', () => {
  test('quantities: CPU in nanocores as metrics-server canonicalizes them, memory in binary SI', () => {
    assert.deepEqual(usageQuantities(12345, 1234 * 1024), { cpu: '12345n', memory: '1234Ki' });
    assert.deepEqual(usageQuantities(200_000_000, 1000), { cpu: '200m', memory: '1k' }, 'binary SI below 1Ki falls back to decimal');
    assert.deepEqual(usageQuantities(0, 0), { cpu: '0', memory: '0' });
  });

  test('NodeMetrics: usage, window, timestamp and the node labels', async () => {
    assert.deepEqual(await api.nodeMetrics('n1'), {
      kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: 'n1', creationTimestamp: '2025-01-02T03:04:25Z', labels: { zone: 'a' } },
      timestamp: '2025-01-02T03:04:20Z', window: '15s',
      usage: { cpu: '1', memory: '1048580Ki' },
    });
    assert.equal((await api.nodeMetrics('n2')).usage.cpu, '12345n');
  });

  test('not found: an unknown node or pod in the lister words, a known one without metrics in metrics-server words', async () => {
    const notFound = async (p: Promise<unknown>, message: string) => {
      await assert.rejects(p, (e: unknown) => e instanceof ApiError && e.code === 404 && e.message === message);
    };
    await notFound(api.nodeMetrics('nope'), 'node "nope" not found');
    await notFound(api.nodeMetrics('idle'), 'nodemetrics.metrics.k8s.io "idle" not found');
    await notFound(api.podMetrics('default', 'nope'), 'pods "nope" not found');
    await notFound(api.podMetrics('default', 'new'), 'podmetrics.metrics.k8s.io "default/new" not found');
  });

  test('PodMetrics: containers in order, the earliest timestamp and its window', async () => {
    assert.deepEqual(await api.podMetrics('default', 'web'), {
      kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: 'web', namespace: 'default', creationTimestamp: '2025-01-02T03:04:25Z', labels: { app: 'web' } },
      timestamp: '2025-01-02T03:04:20Z', window: '15s',
      containers: [{ name: 'app', usage: { cpu: '200m', memory: '17Mi' } }, { name: 'side', usage: { cpu: '1u', memory: '1Mi' } }],
    });
  });

  test('lists: sorted, nodes and pods without metrics left out, selectors applied', async () => {
    assert.deepEqual((await api.listNodeMetrics(all)).map((m) => m.metadata.name), ['n1', 'n2']);
    assert.deepEqual((await api.listNodeMetrics({ ...all, labels: parseSelector('zone=b') })).map((m) => m.metadata.name), ['n2']);
    assert.deepEqual((await api.listPodMetrics('', all)).map((m) => `${m.metadata.namespace}/${m.metadata.name}`), ['default/web', 'prod/db']);
    assert.deepEqual((await api.listPodMetrics('default', all)).map((m) => m.metadata.name), ['web']);
    assert.deepEqual((await api.listPodMetrics('', { ...all, labels: parseSelector('app in (db)') })).map((m) => m.metadata.name), ['db']);
    assert.deepEqual((await api.listPodMetrics('', { ...all, fields: parseFieldSelector('metadata.namespace=prod') })).map((m) => m.metadata.name), ['db']);
    assert.deepEqual((await api.listPodMetrics('', { ...all, fields: parseFieldSelector('metadata.name!=web') })).map((m) => m.metadata.name), ['db']);
  });

  test('the Table sums containers, and has no columns when empty', async () => {
    const t = metricsTable([await api.podMetrics('default', 'web')], 'Metadata') as { columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[]; object: { kind: string } }> };
    assert.deepEqual(t.columnDefinitions.map((c) => c.name), ['Name', 'cpu', 'memory', 'Window']);
    assert.deepEqual(t.rows[0]!.cells, ['web', '200001u', '18Mi', '15s']);
    assert.equal(t.rows[0]!.object.kind, 'PartialObjectMetadata');
    assert.deepEqual((metricsTable([], 'Metadata') as { columnDefinitions: unknown[] }).columnDefinitions, []);
  });

  test('discovery adds metrics.k8s.io/v1beta1 nodes and pods after the built-in groups', () => {
    const src = api.discovery(BUILTIN_DISCOVERY);
    assert.equal(api.discovery(BUILTIN_DISCOVERY), src, 'computed once');
    assert.equal(apiGroupList(src).groups.at(-1)?.name, 'metrics.k8s.io');
    assert.deepEqual(apiResourceList('metrics.k8s.io', 'v1beta1', src)?.resources, [
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ]);
    assert.equal(aggregatedDiscovery('apis', src).items.at(-1)?.metadata.name, 'metrics.k8s.io');
    assert.equal(apiGroupList(BUILTIN_DISCOVERY).groups.some((g) => g.name === 'metrics.k8s.io'), false);
  });
});

describe('simulated nodes', () => {
  test('idle containers and a base load, with counters that give the same rate on every scrape', () => {
    const node: Node = { metadata: { name: 'sim-0', creationTimestamp: '2025-01-02T00:00:00Z' } };
    const pod: Pod = {
      metadata: { name: 'p', namespace: 'default' },
      spec: { containers: [{ name: 'a', resources: { requests: { cpu: '500u' } } }, { name: 'b' }] },
      status: { phase: 'Running', startTime: '2025-01-02T01:00:00Z' },
    };
    const pending: Pod = { metadata: { name: 'q', namespace: 'default' }, spec: { containers: [{ name: 'a' }] }, status: { phase: 'Pending' } };
    const first = simulatedBatch(node, [pod, pending], T);
    const second = simulatedBatch(node, [pod, pending], T + 15_000);
    assert.deepEqual([...second.pods.keys()], ['default/p']);
    const a = resourceUsage(second.pods.get('default/p')!.containers.get('a')!, first.pods.get('default/p')!.containers.get('a')!);
    assert.equal(a?.cpuNanoCores, 500_000);
    const n = resourceUsage(second.nodes.get('sim-0')!, first.nodes.get('sim-0')!);
    assert.equal(n?.cpuNanoCores, 50_000_000 + 500_000 + 1_000_000);
    assert.equal(n?.memoryBytes, (256 << 20) + 2 * (1 << 20));
  });
});
