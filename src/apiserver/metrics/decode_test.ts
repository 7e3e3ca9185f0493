// Decoding a kubelet's /metrics/resource: sample lines with escapes and timestamps, node and
// container points, and metrics-server's rules for incomplete nodes and pods.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBatch, parseSampleLine } from './decode.ts';

const TEXT = `# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"} 10.5 1700000010000
container_cpu_usage_seconds_total{container="db",namespace="prod",pod="db-0"} 3 1700000010001
container_cpu_usage_seconds_total{container="half",namespace="default",pod="broken"} 1 1700000010000
# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="app",namespace="default",pod="web"} 8.388608e+06 1700000010000
container_memory_working_set_bytes{container="db",namespace="prod",pod="db-0"} 1024 1700000010001
# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds
# TYPE container_start_time_seconds gauge
container_start_time_seconds{container="app",namespace="default",pod="web"} 1.6999999e+09
# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 1234.5 1700000010002
# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
# TYPE node_memory_working_set_bytes gauge
node_memory_working_set_bytes 1.5e+09 1700000010002
# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise
# TYPE resource_scrape_error gauge
resource_scrape_error 0
`;

describe('decodeBatch', () => {
  test('sample lines: labels with escapes, values in Go float form, optional timestamps', () => {
    const s = parseSampleLine('m{a="x\\"y\\\\z",b="line\\nbreak"} 1.5e+07 123');
    assert.deepEqual(s, { name: 'm', labels: new Map([['a', 'x"y\\z'], ['b', 'line\nbreak']]), value: 15_000_000, timestamp: 123 });
    assert.deepEqual(parseSampleLine('up 1'), { name: 'up', labels: new Map(), value: 1 });
    assert.equal(parseSampleLine('m{a="unterminated} 1'), undefined);
  });

  test('node and container points, keyed by namespace/name, in nanoseconds and milliseconds', () => {
    const b = decodeBatch(TEXT, 1_700_000_000_000, 'n1');
    assert.deepEqual(b.nodes.get('n1'), { startTime: 0, timestamp: 1_700_000_010_002, cumulativeCpuNs: 1234.5e9, memoryBytes: 1.5e9 });
    assert.deepEqual(b.pods.get('default/web')?.containers.get('app'), {
      startTime: 1_699_999_900_000, timestamp: 1_700_000_010_000, cumulativeCpuNs: 10.5e9, memoryBytes: 8_388_608,
    });
    assert.equal(b.pods.get('prod/db-0')?.containers.get('db')?.memoryBytes, 1024);
    assert.equal(b.pods.has('default/broken'), false, 'a container without memory voids its pod');
  });

  test('a node without memory or CPU is dropped; samples without timestamps take the request time', () => {
    const b = decodeBatch('node_cpu_usage_seconds_total 5\n', 42, 'n1');
    assert.equal(b.nodes.size, 0);
    const c = decodeBatch('node_cpu_usage_seconds_total 5\nnode_memory_working_set_bytes 7\n', 42, 'n1');
    assert.equal(c.nodes.get('n1')?.timestamp, 42);
  });
});
