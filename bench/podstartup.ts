// Pod startup benchmark (root): 100 pods, 30 in flight at a time, from creation to Running as a
// watch sees it, through the API server and a real node agent; beside the raw containerd figure of
// the same run (RunPodSandbox + CreateContainer + StartContainer over CRI, same concurrency).
// Usage: npm run bench -- podstartup [--pods N] [--concurrency N]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { Pod } from '../src/api/types/core_v1.ts';
import { setLogLevel } from '../src/base/log.ts';
import { startTestServer, type TestServer } from '../src/testing/test_server.ts';
import { ensureClusterPki, issueCertificate } from '../src/base/pki.ts';
import { resourceFor } from '../src/api/resource_table.ts';
import { nodeKubeletDialer } from '../src/apiserver/handlers/pod_proxy.ts';
import { startAgent, type Agent } from '../src/agent/agent.ts';
import { importImage } from '../src/agent/images.ts';
import { buildBusyboxImage, TEST_IMAGE } from '../src/agent/busybox_image.ts';
import { APISERVER_KUBELET_CLIENT } from '../src/kubelet/server/server.ts';
import { RestClient } from '../src/client/rest_client.ts';
import { resourceDescriptor } from '../src/client/resource_descriptor.ts';
import type { PodSandboxConfig } from '../src/kubelet/cri/messages.ts';

const NODE = 'bench-node';

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function pickNetwork(): { subnet: string; bridge: string } {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (let x = 100; x < 250; x++) {
    if (!routes.includes(`10.87.${x}.`) && !linkExists(`tkb${x}`)) return { subnet: `10.87.${x}.0/24`, bridge: `tkb${x}` };
  }
  throw new Error('no free 10.87.X.0/24 network');
}

/** Runs `start(i)` for i < n with at most `concurrency` in flight; returns each one's duration (ms). */
async function bounded(n: number, concurrency: number, start: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) out.push(await start(next++));
  }));
  return out;
}

/** Raw containerd: sandbox (with the CNI network) + container start over CRI, as the kubelet does it. */
async function rawStartup(agent: Agent, dir: string, n: number, concurrency: number): Promise<number[]> {
  const cri = agent.cri;
  const imageRef = (await cri.imageStatus({ image: TEST_IMAGE })).image!.id;
  return bounded(n, concurrency, async (i) => {
    const uid = `raw-${i}-${process.pid}`;
    const logDirectory = join(dir, 'raw', uid);
    mkdirSync(logDirectory, { recursive: true });
    const t0 = performance.now();
    const config: PodSandboxConfig = {
      metadata: { name: `raw-${i}`, uid, namespace: 'bench', attempt: 0 }, hostname: `raw-${i}`, logDirectory,
      dnsConfig: { servers: ['10.43.0.10'], searches: [], options: [] }, labels: { bench: 'raw' },
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    };
    const sb = await cri.runPodSandbox(config);
    await cri.podSandboxStatus(sb);
    const id = await cri.createContainer(sb, {
      metadata: { name: 'c', attempt: 0 }, image: { image: imageRef }, command: ['sleep', '3600'], logPath: 'c/0.log', labels: { bench: 'raw' },
    }, config);
    await cri.startContainer(id);
    return performance.now() - t0;
  });
}

/** Through the API: create pods, at most `concurrency` not yet Running, and time each to Running on a watch. */
async function kubeletStartup(ts: TestServer, n: number, concurrency: number): Promise<number[]> {
  const client = await RestClient.fromKubeconfig(ts.kubeconfig);
  const pods = client.resource<Pod>(resourceDescriptor('v1', 'pods'), 'default');
  const created = new Map<string, number>();
  const running = new Map<string, () => void>();
  const abort = new AbortController();
  const watch = await pods.watch({ signal: abort.signal });
  const pump = (async () => {
    try {
      for await (const ev of watch) {
        const p = ev.object as Pod;
        if (p.status?.phase === 'Running') running.get(p.metadata?.name ?? '')?.();
      }
    } catch { /* aborted */ }
  })();
  try {
    return await bounded(n, concurrency, async (i) => {
      const name = `bench-${i}`;
      const done = new Promise<void>((resolve) => running.set(name, resolve));
      const t0 = performance.now();
      created.set(name, t0);
      await pods.create({
        metadata: { name },
        spec: {
          nodeName: NODE, terminationGracePeriodSeconds: 0,
          containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
        },
      });
      await done;
      return performance.now() - t0;
    });
  } finally {
    abort.abort();
    await pump;
    await client.dispose();
  }
}

function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir) || readlinkSync(`/proc/${entry}/root`).startsWith(dir)) pids.push(Number(entry));
    } catch { /* gone */ }
  }
  return pids;
}

async function removeAllSandboxes(agent: Agent): Promise<void> {
  const sbs = await agent.cri.listPodSandbox();
  await Promise.all(sbs.map(async (s) => {
    await agent.cri.stopPodSandbox(s.id).catch(() => undefined);
    await agent.cri.removePodSandbox(s.id).catch(() => undefined);
  }));
}

function row(label: string, xs: readonly number[]): string {
  return `${label.padEnd(28)} p50 ${pct(xs, 50).toFixed(0).padStart(6)} ms   p99 ${pct(xs, 99).toFixed(0).padStart(6)} ms   max ${Math.max(...xs).toFixed(0).padStart(6)} ms`;
}

/** Entry point (bench/run.ts). */
export async function run(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...args], options: { pods: { type: 'string', default: '100' }, concurrency: { type: 'string', default: '30' } } });
  const n = Number(values.pods);
  const concurrency = Number(values.concurrency);
  if (process.getuid?.() !== 0) throw new Error('podstartup runs containers: run it as root');
  if (!process.env['TKUBE_LOG']) setLogLevel('warn');
  const dataDir = mkdtempSync('/tmp/tkube-bench-');
  const net = pickNetwork();
  const hostRunDirExisted = existsSync('/run/containerd');
  let ts: TestServer | undefined;
  let agent: Agent | undefined;
  try {
    ts = await startTestServer();
    const pki = await ensureClusterPki({ dir: join(ts.dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
    const kc = await issueCertificate({ ca: pki.ca, commonName: APISERVER_KUBELET_CLIENT, organizations: ['system:masters'], usages: 'client', days: 1 });
    const nodes = resourceFor('', 'v1', 'nodes')!;
    const server = ts;
    server.api.kubeletDialer = nodeKubeletDialer((name) => server.api.storeFor(nodes).get('', name), { certPem: kc.certPem, keyPem: kc.keyPem, caPem: pki.ca.certPem });
    agent = await startAgent({
      dataDir, nodeName: NODE, nodeIP: '127.0.0.1', kubeconfig: ts.kubeconfig, clusterCa: pki.ca, kubeletPort: 0,
      kubeletBindAddress: '127.0.0.1', podCIDR: net.subnet, bridge: net.bridge, ipMasq: false, enableIpForward: false,
    });
    const image = join(dataDir, 'busybox.oci.tar');
    writeFileSync(image, buildBusyboxImage().tar);
    await importImage(image, { socket: agent.containerd.paths.socket });

    console.log(`pod startup: ${n} pods, ${concurrency} in flight, ${NODE} on ${net.subnet}`);
    const rawStart = performance.now();
    const raw = await rawStartup(agent, dataDir, n, concurrency);
    const rawWall = performance.now() - rawStart;
    await removeAllSandboxes(agent);
    const kStart = performance.now();
    const kube = await kubeletStartup(ts, n, concurrency);
    const kWall = performance.now() - kStart;
    console.log(row('raw CRI sandbox+container', raw) + `   (${(n / (rawWall / 1000)).toFixed(1)} pods/s)`);
    console.log(row('kubelet, create->Running', kube) + `   (${(n / (kWall / 1000)).toFixed(1)} pods/s)`);
    console.log(`overhead over raw: p50 ${((pct(kube, 50) / pct(raw, 50) - 1) * 100).toFixed(0)}%, p99 ${((pct(kube, 99) / pct(raw, 99) - 1) * 100).toFixed(0)}%`);
    console.log(`target: p99 < 2000 ms (upstream SLO 5 s), overhead < 30%`);
  } finally {
    if (agent) {
      await agent.kubelet.dispose();
      await removeAllSandboxes(agent).catch(() => undefined);
      await agent.dispose();
    }
    await ts?.stop();
    for (const pid of processesUnder(dataDir)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dataDir + '/')).reverse()) {
      try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* gone */ }
    }
    if (linkExists(net.bridge)) execFileSync('ip', ['link', 'del', net.bridge]);
    rmSync(dataDir, { recursive: true, force: true });
    if (!hostRunDirExisted) {
      for (const d of ['/run/containerd/s', '/run/containerd']) {
        try { execFileSync('rmdir', [d], { stdio: 'ignore' }); } catch { /* not empty, or not there */ }
      }
    }
  }
}
