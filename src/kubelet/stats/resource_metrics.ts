// /metrics/resource: the CPU and memory part of a Summary in Prometheus text format, with the
// metric names, labels, stability annotations and sample timestamps of upstream's resource metrics
// collector. metrics-server (and tkube's built-in metrics API) scrape exactly this.
import { goFormatFloat } from '../../api/go_strings.ts';
import type { Summary } from './summary_types.ts';

/** Content type of the Prometheus text exposition format. */
export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Sample {
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly value: number;
  /** Epoch milliseconds, when the sample carries its own time. */
  readonly time?: number;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly samples: Sample[];
}

function family(name: string, type: Family['type'], help: string): Family {
  return { name, type, help, samples: [] };
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** client_golang's order: by label values, labels taken in name order. */
function compareSamples(a: Sample, b: Sample): number {
  for (let i = 0; i < Math.min(a.labels.length, b.labels.length); i++) {
    const x = a.labels[i]![1];
    const y = b.labels[i]![1];
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.labels.length - b.labels.length;
}

/** Renders the resource metrics of a summary; without one (the runtime failed) only the error gauge. */
export function resourceMetricsText(summary: Summary | undefined): string {
  const f = {
    containerCpu: family('container_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the container in core-seconds'),
    containerMemory: family('container_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the container in bytes'),
    containerStart: family('container_start_time_seconds', 'gauge', '[STABLE] Start time of the container since unix epoch in seconds'),
    nodeCpu: family('node_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the node in core-seconds'),
    nodeMemory: family('node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes'),
    podCpu: family('pod_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds'),
    podMemory: family('pod_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the pod in bytes'),
    // scrape_error, its deprecated twin, is hidden since v1.30
    scrapeError: family('resource_scrape_error', 'gauge', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise'),
  };
  f.scrapeError.samples.push({ labels: [], value: summary ? 0 : 1 });
  if (summary) {
    const node = summary.node;
    if (node.cpu?.usageCoreNanoSeconds !== undefined) f.nodeCpu.samples.push({ labels: [], value: node.cpu.usageCoreNanoSeconds / 1e9, time: node.cpu.time });
    if (node.memory?.workingSetBytes !== undefined) f.nodeMemory.samples.push({ labels: [], value: node.memory.workingSetBytes, time: node.memory.time });
    for (const pod of summary.pods) {
      const podLabels = [['namespace', pod.podRef.namespace], ['pod', pod.podRef.name]] as const;
      for (const c of pod.containers) {
        const labels = [['container', c.name], ...podLabels] as const;
        if (c.startTime > 0) f.containerStart.samples.push({ labels, value: c.startTime / 1000 });
        if (c.cpu?.usageCoreNanoSeconds !== undefined) f.containerCpu.samples.push({ labels, value: c.cpu.usageCoreNanoSeconds / 1e9, time: c.cpu.time });
        if (c.memory?.workingSetBytes !== undefined) f.containerMemory.samples.push({ labels, value: c.memory.workingSetBytes, time: c.memory.time });
      }
      if (pod.cpu?.usageCoreNanoSeconds !== undefined) f.podCpu.samples.push({ labels: podLabels, value: pod.cpu.usageCoreNanoSeconds / 1e9, time: pod.cpu.time });
      if (pod.memory?.workingSetBytes !== undefined) f.podMemory.samples.push({ labels: podLabels, value: pod.memory.workingSetBytes, time: pod.memory.time });
    }
  }
  const lines: string[] = [];
  for (const fam of Object.values(f).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (fam.samples.length === 0) continue;
    lines.push(`# HELP ${fam.name} ${escapeHelp(fam.help)}`, `# TYPE ${fam.name} ${fam.type}`);
    for (const s of fam.samples.sort(compareSamples)) {
      const labels = s.labels.length > 0 ? `{${s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      lines.push(`${fam.name}${labels} ${goFormatFloat(s.value)}${s.time !== undefined ? ` ${Math.floor(s.time)}` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}
