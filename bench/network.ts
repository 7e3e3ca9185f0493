// Network benchmark (root): Service programming latency, then the DNS and Ingress benchmarks.
// Programming: an in-process API server holds 1,000 Services x 3 endpoints; a Proxier fed by
// informers (as on a node) programs them into a private network namespace. Each EndpointSlice
// update carries endpoints.kubernetes.io/last-change-trigger-time = the moment it was written, and
// the proxier reports upstream's network_programming_duration (trigger -> rules applied): p50/p99,
// for changes one at a time and for a burst. DNS (bench/dns.ts) and Ingress (bench/ingress.ts) run
// as they do alone and print their own ratios against their floors measured in the same run.
// Usage: npm run bench -- network [changes] [dns-seconds] [ingress-seconds]   (defaults 100, 2, 3)

import { execFileSync } from 'node:child_process';
import type { Service } from '../src/api/types/core_v1.ts';
import type { EndpointSlice } from '../src/api/types/discovery_v1.ts';
import { SharedInformerFactory } from '../src/client/informer_factory.ts';
import { RestClient } from '../src/client/rest_client.ts';
import { execRunner } from '../src/proxy/iptables.ts';
import { Proxier, percentile } from '../src/proxy/proxier.ts';
import { ENDPOINT_SLICES, feedProxier } from '../src/proxy/proxy_source.ts';
import { startTestServer, type TestServer } from '../src/testing/test_server.ts';

const SERVICES = 1000;
const ENDPOINTS = 3;
const BURST = 100;
const TRIGGER = 'endpoints.kubernetes.io/last-change-trigger-time';

function service(i: number): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'default' },
    spec: { clusterIP: `10.43.${4 + (i >> 8)}.${i & 255}`, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  };
}

function slice(i: number, generation: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: `svc-${i}-abc`, namespace: 'default', labels: { 'kubernetes.io/service-name': `svc-${i}` },
      ...(generation > 0 ? { annotations: { [TRIGGER]: new Date().toISOString() } } : {}),
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: ENDPOINTS }, (_, j) => {
      const n = i * ENDPOINTS + j + generation * 7;
      return { addresses: [`10.42.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true } };
    }),
  };
}

async function post(ts: TestServer, path: string, obj: unknown): Promise<void> {
  const r = await ts.request('POST', path, { body: JSON.stringify(obj) });
  if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${r.body}`);
}

async function inParallel(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function stats(samples: readonly number[]): string {
  return `p50 ${percentile(samples, 50).toFixed(0)} ms, p99 ${percentile(samples, 99).toFixed(0)} ms, max ${Math.max(...samples).toFixed(0)} ms (n=${samples.length})`;
}

async function programming(changes: number): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench network: run as root (the proxier programs a private network namespace)');
  const ns = `tkube-bench-net-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const ts = await startTestServer();
  let proxier: Proxier | undefined;
  let factory: SharedInformerFactory | undefined;
  let client: RestClient | undefined;
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    let t = performance.now();
    await inParallel(SERVICES, 32, (i) => post(ts, '/api/v1/namespaces/default/services', service(i)));
    await inParallel(SERVICES, 32, (i) => post(ts, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice(i, 0)));
    process.stderr.write(`bench network: ${SERVICES} Services x ${ENDPOINTS} endpoints written in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);

    proxier = await Proxier.create({
      node: { name: 'bench-node', ips: ['10.201.0.1'], clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16' },
      runner: execRunner(['ip', 'netns', 'exec', ns]),
      // Upstream batches changes for at least 1 s (--iptables-min-sync-period); this measures the work itself.
      minSyncPeriodMs: 0,
    });
    const p = proxier;
    client = await RestClient.fromKubeconfig(ts.kubeconfig, { userAgent: 'bench-network' });
    factory = new SharedInformerFactory(client);
    feedProxier(factory, p);
    t = performance.now();
    factory.start();
    await until(() => p.metrics.syncs >= 1, 120_000, 'the first sync');
    await p.idle();
    console.log(`initial full sync of ${SERVICES} Services x ${ENDPOINTS} endpoints: ${p.metrics.lastSyncMs.toFixed(0)} ms `
      + `(render ${p.metrics.lastRenderMs.toFixed(0)} ms, iptables-restore ${p.metrics.lastRestoreMs.toFixed(0)} ms; `
      + `${p.metrics.lastRuleLines.nat} nat + ${p.metrics.lastRuleLines.filter} filter lines; ${((performance.now() - t) / 1000).toFixed(1)} s from start)`);

    const slices = client.resource<EndpointSlice>(ENDPOINT_SLICES, 'default');
    const write = async (i: number, generation: number): Promise<void> => {
      const current = await slices.get(`svc-${i}-abc`);
      await slices.update({ ...slice(i, generation), metadata: { ...slice(i, generation).metadata, resourceVersion: current.metadata!.resourceVersion! } });
    };
    // One change at a time: each written once the previous one is programmed.
    const newSamples = (since: number): number[] => p.metrics.networkProgrammingLatencyMs.slice(-(p.metrics.networkProgrammingSamples - since));
    const one: number[] = [];
    const render: number[] = [];
    const restore: number[] = [];
    for (let k = 0; k < changes; k++) {
      const before = p.metrics.networkProgrammingSamples;
      await write((k * 37) % SERVICES, k + 1);
      await until(() => p.metrics.networkProgrammingSamples > before, 30_000, `change ${k} programmed`);
      one.push(...newSamples(before));
      render.push(p.metrics.lastRenderMs);
      restore.push(p.metrics.lastRestoreMs);
    }
    console.log(`EndpointSlice change -> rules applied, one at a time: ${stats(one)} (target p99 < 1000 ms: ${percentile(one, 99) < 1000 ? 'met' : 'NOT met'})`);
    console.log(`  partial sync: ${stats(p.metrics.syncDurationsMs.slice(-changes))}`);
    console.log(`    of which rendering: ${stats(render)}; iptables-restore: ${stats(restore)}`);

    // A burst: BURST Services change at once; later ones wait for the sync in flight.
    const base = p.metrics.networkProgrammingSamples;
    await Promise.all(Array.from({ length: BURST }, (_, k) => write((k * 13 + 5) % SERVICES, changes + 1 + k)));
    await until(() => p.metrics.networkProgrammingSamples >= base + BURST, 60_000, 'the burst programmed');
    const burst = newSamples(base);
    console.log(`EndpointSlice change -> rules applied, ${BURST} changes written at once: ${stats(burst)}`);
    console.log(`rules in a private network namespace through iptables-restore (${p.iptables.tools.backend} ${p.iptables.tools.version}); informers over HTTPS from an in-process API server.`);
  } finally {
    await factory?.dispose();
    await proxier?.dispose();
    await client?.dispose();
    await ts.stop();
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

/** Runs the three parts. */
export async function run(args: readonly string[]): Promise<void> {
  const [changes = '100', dnsSeconds = '2', ingressSeconds = '3'] = args;
  for (const [name, v] of [['changes', changes], ['dns-seconds', dnsSeconds], ['ingress-seconds', ingressSeconds]] as const) {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`bench network: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  console.log('== Service programming latency');
  await programming(Number(changes));
  console.log('\n== Cluster DNS (bench dns)');
  await (await import('./dns.ts')).run([dnsSeconds, '16']);
  console.log('\n== Ingress (bench ingress)');
  await (await import('./ingress.ts')).run([ingressSeconds, '32']);
}
