// Probe overhead benchmark (root): N pods (default 100) running busybox httpd on a real node agent,
// measured three times for a window each: without probes, with an exec readiness probe every second,
// with an httpGet readiness probe every second. Reports the CPU of the tkube process (kubelet and API
// server), of containerd with its shims and runc, and of the containers, beside the no-probe baseline.
// Usage: npm run bench -- probes [--pods N] [--seconds S]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Container, Pod } from '../src/api/types/core_v1.ts';
import { setLogLevel } from '../src/base/log.ts';
import { linkExists, pickTestNetwork, processesUnder } from '../src/testing/e2e_cluster.ts';
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
import type { ResourceClient } from '../src/client/resource_client.ts';

const NODE = 'bench-probes';
const CLK_TCK = 100;




/** CPU seconds so far of the node's runtime (containerd, shims and what they reaped: runc) and of the containers. */
function runtimeCpu(dataDir: string): { runtime: number; containers: number } {
  let runtime = 0;
  let containers = 0;
  for (const pid of processesUnder(dataDir)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields 14-17 of stat: utime stime cutime cstime (f[0] is field 3)
      const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      if (comm.startsWith('containerd')) runtime += ticks / CLK_TCK;
      else containers += ticks / CLK_TCK;
    } catch { /* gone */ }
  }
  return { runtime, containers };
}

/** Busy and total CPU seconds of the whole machine. */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

type Kind = 'none' | 'exec' | 'http';

/** Pods whose probes are counted (their httpd logs each request, so only a few). */
const SAMPLE = 5;

function container(kind: Kind, i: number): Container {
  const verbose = kind === 'http' && i < SAMPLE ? ' -vv' : '';
  const c: Container = {
    name: 'c', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', ports: [{ name: 'http', containerPort: 8080 }],
    command: ['sh', '-c', `mkdir -p /www && echo ok > /www/healthz && exec httpd -f${verbose} -p 8080 -h /www`],
  };
  if (kind === 'exec') c.readinessProbe = { exec: { command: ['sh', '-c', 'echo >> /tmp/probed'] }, periodSeconds: 1 };
  if (kind === 'http') c.readinessProbe = { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 };
  return c;
}

async function listPods(pods: ResourceClient<Pod>): Promise<Pod[]> {
  return (await pods.list()).items;
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface Measurement {
  readonly kind: Kind;
  readonly seconds: number;
  readonly node: number;
  readonly runtime: number;
  readonly containers: number;
  readonly machine: number;
  readonly probesPerSecond: number | undefined;
}

async function phase(agent: Agent, pods: ResourceClient<Pod>, dataDir: string, kind: Kind, n: number, seconds: number): Promise<Measurement> {
  await Promise.all(Array.from({ length: n }, (_, i) => pods.create({
    metadata: { name: `${kind}-${i}` },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 0, containers: [container(kind, i)] },
  })));
  await until(`${n} ${kind} pods ready`, async () => {
    const ps = await listPods(pods);
    return ps.length === n && ps.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, 600_000);
  // let startup work settle before measuring
  await new Promise((r) => setTimeout(r, 5000));
  const sample: string[] = [];
  for (let i = 0; i < SAMPLE; i++) {
    const [c] = await agent.cri.listContainers({ state: { state: 'CONTAINER_RUNNING' }, labelSelector: { 'io.kubernetes.pod.name': `${kind}-${i}` } });
    if (c) sample.push(c.id);
  }
  const count = async (): Promise<number> => {
    let total = 0;
    for (const id of sample) {
      if (kind === 'exec') {
        const r = await agent.cri.execSync(id, ['sh', '-c', 'wc -c < /tmp/probed 2>/dev/null || echo 0'], 5);
        total += Number(r.stdout.toString().trim()) || 0;
      } else if (kind === 'http') {
        const log = (await agent.cri.containerStatus(id)).status?.logPath;
        total += log && existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('url:/healthz')).length : 0;
      }
    }
    return total;
  };
  const c0 = kind === 'none' ? 0 : await count();
  const node0 = process.cpuUsage();
  const rt0 = runtimeCpu(dataDir);
  const m0 = machineCpu();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (Date.now() - t0) / 1000;
  const node1 = process.cpuUsage(node0);
  const rt1 = runtimeCpu(dataDir);
  const m1 = machineCpu();
  const c1 = kind === 'none' ? 0 : await count();
  const result: Measurement = {
    kind, seconds: elapsed,
    node: (node1.user + node1.system) / 1e6 / elapsed,
    runtime: (rt1.runtime - rt0.runtime) / elapsed,
    containers: (rt1.containers - rt0.containers) / elapsed,
    machine: (m1.busy - m0.busy) / elapsed,
    probesPerSecond: kind === 'none' || sample.length === 0 ? undefined : ((c1 - c0) / sample.length / elapsed) * n,
  };
  // tear down: pods go with grace 0; wait until the runtime has nothing running
  await Promise.all((await listPods(pods)).map((p) => pods.delete(p.metadata!.name!, { gracePeriodSeconds: 0 })));
  await until('pods removed', async () => (await agent.cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } })).length === 0 && (await listPods(pods)).length === 0, 300_000);
  return result;
}

function pct(cores: number): string {
  return `${(cores * 100).toFixed(1).padStart(6)}%`;
}

/** Entry point (bench/run.ts). */
export async function run(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...args], options: { pods: { type: 'string', default: '100' }, seconds: { type: 'string', default: '30' } } });
  const n = Number(values.pods);
  const seconds = Number(values.seconds);
  if (process.getuid?.() !== 0) throw new Error('the probes benchmark runs containers: run it as root');
  if (!process.env['TKUBE_LOG']) setLogLevel('warn');
  const dataDir = mkdtempSync('/tmp/tkube-bench-');
  const net = pickTestNetwork(86, 'tkp');
  const hostRunDirExisted = existsSync('/run/containerd');
  let ts: TestServer | undefined;
  let agent: Agent | undefined;
  let client: RestClient | undefined;
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
    client = await RestClient.fromKubeconfig(ts.kubeconfig);
    const pods = client.resource<Pod>(resourceDescriptor('v1', 'pods'), 'default');

    console.log(`probe overhead: ${n} busybox httpd pods on ${NODE} (${net.subnet}), ${seconds} s per phase; CPU in % of one core`);
    const rows: Measurement[] = [];
    for (const kind of ['none', 'exec', 'http'] as const) rows.push(await phase(agent, pods, dataDir, kind, n, seconds));
    const base = rows[0]!;
    console.log(`${'probes'.padEnd(22)} ${'tkube proc'.padStart(10)} ${'containerd'.padStart(10)} ${'containers'.padStart(10)} ${'machine'.padStart(8)}   probes/s`);
    for (const r of rows) {
      const label = r.kind === 'none' ? 'none (baseline)' : r.kind === 'exec' ? 'exec every 1 s' : 'httpGet every 1 s';
      console.log(`${label.padEnd(22)} ${pct(r.node).padStart(10)} ${pct(r.runtime).padStart(10)} ${pct(r.containers).padStart(10)} ${pct(r.machine).padStart(8)}   ${r.probesPerSecond === undefined ? '-' : r.probesPerSecond.toFixed(1)}`);
    }
    for (const r of rows.slice(1)) {
      const rate = r.probesPerSecond || n;
      console.log(`${r.kind}: tkube process +${((r.node - base.node) * 100).toFixed(1)}% of a core (${(((r.node - base.node) * 1e3) / rate).toFixed(2)} ms CPU per probe), ` +
        `containerd/runc +${((r.runtime - base.runtime) * 100).toFixed(1)}% (${(((r.runtime - base.runtime) * 1e3) / rate).toFixed(2)} ms per probe)`);
    }
  } finally {
    await client?.dispose();
    if (agent) {
      await agent.kubelet.dispose();
      const sbs = await agent.cri.listPodSandbox().catch(() => []);
      await Promise.all(sbs.map(async (s) => {
        await agent!.cri.stopPodSandbox(s.id).catch(() => undefined);
        await agent!.cri.removePodSandbox(s.id).catch(() => undefined);
      }));
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
