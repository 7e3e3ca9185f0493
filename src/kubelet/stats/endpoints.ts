// The kubelet API's stats and metrics endpoints (/stats/summary, /metrics/resource) over a
// StatsProvider, as answers the HTTPS server writes: status, content type and body.
import { logger } from '../../base/log.ts';
import { KubeletError } from '../server/types.ts';
import type { StatsProvider } from './provider.ts';
import { PROMETHEUS_TEXT_CONTENT_TYPE, resourceMetricsText } from './resource_metrics.ts';
import { summaryJSON } from './summary_types.ts';

const log = logger('kubelet-stats');

/** A complete answer. */
export interface EndpointAnswer {
  readonly contentType: string;
  readonly body: string;
}

/** GET|POST /stats/summary[?only_cpu_and_memory=true]. */
export async function statsEndpoint(provider: StatsProvider, params: readonly string[], query: URLSearchParams): Promise<EndpointAnswer> {
  if (params.length !== 1 || params[0] !== 'summary') throw new KubeletError(404, '404 page not found');
  const only = query.get('only_cpu_and_memory');
  let summary;
  try {
    summary = await provider.summary({ onlyCpuAndMemory: only === 'true' });
  } catch (err) {
    throw new KubeletError(500, `Internal Error: failed to get summary stats: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { contentType: 'application/json', body: summaryJSON(summary) };
}

/** GET /metrics/resource; the kubelet's other metric sets are not served. */
export async function metricsEndpoint(provider: StatsProvider, params: readonly string[]): Promise<EndpointAnswer> {
  if (params.length !== 1 || params[0] !== 'resource') throw new KubeletError(404, '404 page not found');
  let summary;
  try {
    summary = await provider.summary({ onlyCpuAndMemory: true });
  } catch (err) {
    log.error('Error getting summary for resourceMetric prometheus endpoint', { err: err instanceof Error ? err.message : String(err) });
  }
  return { contentType: PROMETHEUS_TEXT_CONTENT_TYPE, body: resourceMetricsText(summary) };
}
