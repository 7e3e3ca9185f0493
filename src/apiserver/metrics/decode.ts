// Reads a kubelet's /metrics/resource (Prometheus text) into a MetricsBatch, keeping what
// metrics-server keeps: node and container CPU counters, working sets and container start times.
// Incomplete nodes are dropped, and so are pods with a container missing CPU or memory.
import type { MetricsBatch, MetricsPoint, PodMetricsPoint } from './types.ts';

interface MutablePoint {
  startTime: number;
  timestamp: number;
  cumulativeCpuNs: number;
  memoryBytes: number;
}

/** One sample line: name, labels, value, and its own timestamp (ms) when it has one. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  readonly value: number;
  readonly timestamp?: number;
}

/** Parses one exposition line that is a sample; undefined for comments, blanks and junk. */
export function parseSampleLine(line: string): ParsedSample | undefined {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{)?/.exec(line);
  if (!m) return undefined;
  const name = m[1]!;
  const labels = new Map<string, string>();
  let i = name.length;
  if (m[2]) {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(line.slice(i));
      if (!lm) return undefined;
      i += lm[0].length;
      let value = '';
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && i + 1 < line.length) {
          i++;
          value += line[i] === 'n' ? '\n' : line[i];
        } else {
          value += line[i];
        }
      }
      if (line[i] !== '"') return undefined;
      i++;
      labels.set(lm[1]!, value);
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest[0] === '') return undefined;
  const value = Number(rest[0]!.replace(/^\+Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity'));
  if (Number.isNaN(value) && rest[0] !== 'NaN') return undefined;
  const timestamp = rest[1] !== undefined ? Number(rest[1]) : undefined;
  return { name, labels, value, ...(timestamp !== undefined && Number.isFinite(timestamp) ? { timestamp } : {}) };
}

function emptyPoint(): MutablePoint {
  return { startTime: 0, timestamp: 0, cumulativeCpuNs: 0, memoryBytes: 0 };
}

/** Decodes one node's scrape; `requestTime` (ms) stands in for samples without a timestamp. */
export function decodeBatch(text: string, requestTime: number, nodeName: string): MetricsBatch {
  const node = emptyPoint();
  const pods = new Map<string, Map<string, MutablePoint>>();
  const containerPoint = (labels: ReadonlyMap<string, string>): MutablePoint => {
    const key = `${labels.get('namespace') ?? ''}/${labels.get('pod') ?? ''}`;
    let containers = pods.get(key);
    if (!containers) {
      containers = new Map();
      pods.set(key, containers);
    }
    const name = labels.get('container') ?? '';
    let p = containers.get(name);
    if (!p) {
      p = emptyPoint();
      containers.set(name, p);
    }
    return p;
  };
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const s = parseSampleLine(line);
    if (!s) continue;
    const at = s.timestamp ?? requestTime;
    switch (s.name) {
      case 'node_cpu_usage_seconds_total':
        node.cumulativeCpuNs = Math.round(s.value * 1e9); // a whole number of ns: undo the seconds float's error
        node.timestamp = at;
        break;
      case 'node_memory_working_set_bytes':
        node.memoryBytes = s.value;
        node.timestamp = at;
        break;
      case 'container_cpu_usage_seconds_total': {
        const p = containerPoint(s.labels);
        p.cumulativeCpuNs = Math.round(s.value * 1e9);
        p.timestamp = at;
        break;
      }
      case 'container_memory_working_set_bytes': {
        const p = containerPoint(s.labels);
        p.memoryBytes = s.value;
        p.timestamp = at;
        break;
      }
      case 'container_start_time_seconds':
        containerPoint(s.labels).startTime = s.value * 1000;
        break;
      default:
        break;
    }
  }
  const nodes = new Map<string, MetricsPoint>();
  if (node.timestamp !== 0 && node.cumulativeCpuNs !== 0 && node.memoryBytes !== 0) nodes.set(nodeName, node);
  const out = new Map<string, PodMetricsPoint>();
  for (const [key, containers] of pods) {
    const complete = new Map<string, MetricsPoint>();
    let ok = true;
    for (const [name, p] of containers) {
      // as metrics-server: one container without CPU or memory (even with a start time) voids the pod
      if (p.cumulativeCpuNs === 0 || p.memoryBytes === 0) {
        ok = false;
        break;
      }
      complete.set(name, p);
    }
    if (ok && complete.size > 0) out.set(key, { containers: complete });
  }
  return { nodes, pods: out };
}
