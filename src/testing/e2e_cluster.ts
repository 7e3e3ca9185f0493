// A whole single-node cluster in the test process for end-to-end tests (root): API server, controller
// manager, scheduler and a real node agent (containerd, kubelet) on a private bridge and /24, with
// the busybox test image imported. stop() removes every container, mount, bridge and rule it made.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Event, Pod } from '../api/types/core_v1.ts';
import { resourceFor } from '../api/resource_table.ts';
import { ORDERED_PLUGINS } from '../apiserver/admission/chain.ts';
import { nodeKubeletDialer } from '../apiserver/handlers/pod_proxy.ts';
import { ensureClusterPki, issueCertificate, type ClusterPki } from '../base/pki.ts';
import { buildBusyboxImage, TEST_IMAGE } from '../agent/busybox_image.ts';
import { importImage } from '../agent/images.ts';
import { startAgent, type Agent, type AgentOptions } from '../agent/agent.ts';
import type { NetworkingOptions } from '../agent/networking.ts';
import { startControllerManager, type ControllerManager } from '../controllers/manager.ts';
import { APISERVER_KUBELET_CLIENT } from '../kubelet/server/server.ts';
import { startScheduler } from '../scheduler/wiring/start_scheduler.ts';
import type { Disposable } from '../base/disposable.ts';
import { startTestServer, type TestServer, type TestServerOptions } from './test_server.ts';

export { TEST_IMAGE };

/** Options of startE2ECluster. */
export interface E2EClusterOptions {
  readonly server?: TestServerOptions;
  /** Run the controller manager (default true) and which controllers (default all). */
  readonly controllers?: boolean | readonly string[];
  /** Run the scheduler (default true); without it, pods need spec.nodeName. */
  readonly scheduler?: boolean;
  /** Extra agent options (networking, kubelet periods ...). */
  readonly agent?: Partial<AgentOptions>;
  /** Service networking with test-safe settings (testNetworking); an object overrides some of them. */
  readonly networking?: boolean | Partial<NetworkingOptions>;
}

/** A running end-to-end cluster. */
export interface E2ECluster {
  readonly ts: TestServer;
  readonly pki: ClusterPki;
  readonly agent: Agent;
  readonly nodeName: string;
  readonly dataDir: string;
  /** This run's pod subnet (a free 10.88.X.0/24) and bridge. */
  readonly net: { readonly subnet: string; readonly bridge: string };
  /** `kubectl run NAME --image=busybox -- sh -c SCRIPT` with spec overrides merged in. */
  run(name: string, script: string, opts?: { namespace?: string; spec?: Record<string, unknown>; labels?: Record<string, string>; extra?: string[] }): Promise<void>;
  /** kubectl apply -f - of YAML or JSON text. */
  apply(manifest: string): Promise<void>;
  getPod(name: string, namespace?: string): Promise<Pod>;
  /** Waits until the pod is Running with every container ready. */
  waitRunning(name: string, opts?: { namespace?: string; timeoutMs?: number }): Promise<Pod>;
  /** `kubectl exec POD -- ARGS`, returning stdout (asserts exit 0 unless allowFailure). */
  exec(pod: string, args: readonly string[], opts?: { namespace?: string; container?: string; allowFailure?: boolean }): Promise<{ code: number; stdout: string; stderr: string }>;
  events(name: string, namespace?: string): Promise<Event[]>;
  stop(): Promise<void>;
}

/** Polls fn every 100 ms until it returns something other than undefined/false. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether a network link of that name exists. */
export function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A free 10.<octet>.X.0/24 and a bridge `<prefix>X` for this run, leaving other runs (each suite picks
 * its own octet and prefix) and a real tkube0 alone.
 */
export function pickTestNetwork(octet = 88, prefix = 'tke'): { subnet: string; bridge: string } {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (let i = 0; i < 50; i++) {
    const x = 10 + Math.floor(Math.random() * 240);
    if (!routes.includes(`10.${octet}.${x}.`) && !linkExists(`${prefix}${x}`)) return { subnet: `10.${octet}.${x}.0/24`, bridge: `${prefix}${x}` };
  }
  throw new Error(`no free 10.${octet}.X.0/24 test network`);
}

/** PIDs of processes whose command line names `dir` or whose root is under it (containers, shims). */
export function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir) || readlinkSync(`/proc/${entry}/root`).startsWith(dir)) pids.push(Number(entry));
    } catch { /* gone */ }
  }
  return pids;
}

/**
 * Agent options turning on service networking without touching a real agent's: cluster DNS on
 * 10.43.X.10 held by dummy interface tkdX (X of this run's network), iptables chains under E2E<X>
 * prefixes, ingress on free ports of 127.0.0.1, no upstream DNS, no blackhole route, and everything
 * (rules, interface, route_localnet) removed when the agent stops.
 */
export function testNetworking(net: { bridge: string }, overrides: Partial<NetworkingOptions> = {}): Partial<AgentOptions> {
  const x = Number(net.bridge.replace(/^\D+/, ''));
  assert.ok(Number.isInteger(x) && x > 0 && x < 256, `test bridge ${net.bridge} has no network number`);
  return {
    clusterDNS: [`10.43.${x}.10`], clusterCIDR: '10.88.0.0/16',
    networking: {
      dnsInterface: `tkd${x}`, dnsUpstream: false, ingressHttpPort: 0, ingressHttpsPort: 0, ingressBindAddress: '127.0.0.1',
      blackholeRoutes: false, proxyMinSyncPeriodMs: 100, chainTag: `E2E${x.toString(36).padStart(2, '0')}`, cleanupOnDispose: true,
      ...overrides,
    },
  };
}

/** Starts the cluster; always pair with stop() in an `after` hook. */
export async function startE2ECluster(opts: E2EClusterOptions = {}): Promise<E2ECluster> {
  assert.equal(process.getuid?.(), 0, 'end-to-end tests run containers and need root');
  const nodeName = `e2e-${process.pid}`;
  const dataDir = mkdtempSync('/tmp/tkube-e2e-');
  const net = pickTestNetwork();
  const hostRunDirExisted = existsSync('/run/containerd');
  const runControllers = opts.controllers ?? true;
  const ts = await startTestServer({
    admissionPlugins: runControllers ? ORDERED_PLUGINS : undefined,
    ...opts.server,
  });
  const owned: Disposable[] = [];
  let agent: Agent | undefined;
  const pki = await ensureClusterPki({ dir: join(ts.dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });

  const stop = async (): Promise<void> => {
    try {
      if (agent) {
        // stop the kubelet first, or it would recreate what we remove
        await agent.kubelet.dispose();
        for (const s of await agent.cri.listPodSandbox()) {
          await agent.cri.stopPodSandbox(s.id).catch(() => undefined);
          await agent.cri.removePodSandbox(s.id).catch(() => undefined);
        }
      }
    } catch { /* best effort; the kill below is the safety net */ }
    await agent?.dispose();
    for (const d of owned.reverse()) await d.dispose();
    await ts.stop();
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
  };

  try {
    const client = await issueCertificate({ ca: pki.ca, commonName: APISERVER_KUBELET_CLIENT, organizations: ['system:masters'], usages: 'client', days: 1 });
    const nodes = resourceFor('', 'v1', 'nodes')!;
    ts.api.kubeletDialer = nodeKubeletDialer((n) => ts.api.storeFor(nodes).get('', n), { certPem: client.certPem, keyPem: client.keyPem, caPem: pki.ca.certPem });
    if (runControllers) {
      const cm: ControllerManager = await startControllerManager({
        kubeconfig: ts.kubeconfig,
        controllers: runControllers === true ? undefined : runControllers,
        options: { clusterCidr: '10.88.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: pki.ca.certPem },
        leaderElection: false, identity: `e2e-${process.pid}`,
      });
      owned.push(cm);
    }
    if (opts.scheduler ?? true) {
      owned.push(await startScheduler({ kubeconfig: ts.kubeconfig, leaderElection: false, identity: `e2e-${process.pid}` }));
    }
    agent = await startAgent({
      dataDir, nodeName, nodeIP: '127.0.0.1', kubeconfig: ts.kubeconfig, clusterCa: pki.ca,
      kubeletPort: 0, kubeletBindAddress: '127.0.0.1', podCIDR: net.subnet, bridge: net.bridge, ipMasq: false,
      enableIpForward: false, nodeTaints: [], containerd: { restartDelayMs: 100 },
      ...(opts.networking ? testNetworking(net, opts.networking === true ? {} : opts.networking) : {}),
      ...opts.agent,
      // Disk-pressure eviction and image GC follow the test machine's disk, not the test: off unless asked for.
      kubelet: { evictionHard: { 'memory.available': '100Mi' }, imageGC: { highThresholdPercent: 100, lowThresholdPercent: 100 }, ...opts.agent?.kubelet },
    });
    const image = join(dataDir, 'busybox.oci.tar');
    writeFileSync(image, buildBusyboxImage().tar);
    await importImage(image, { socket: agent.containerd.paths.socket });
    rmSync(image);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const a = agent;

  const getPod = async (name: string, namespace = 'default'): Promise<Pod> => {
    const r = await ts.request('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
    assert.equal(r.status, 200, r.body);
    return r.json<Pod>();
  };

  return {
    ts, pki, agent: a, nodeName, dataDir, net, stop, getPod,
    async run(name, script, o = {}) {
      const overrides = JSON.stringify({ spec: { terminationGracePeriodSeconds: 30, ...o.spec } });
      const labels = o.labels ? [`--labels=${Object.entries(o.labels).map(([k, v]) => `${k}=${v}`).join(',')}`] : [];
      const r = await ts.kubectl(['run', name, '-n', o.namespace ?? 'default', `--image=${TEST_IMAGE}`, '--image-pull-policy=IfNotPresent',
        `--overrides=${overrides}`, ...labels, ...(o.extra ?? []), '--command', '--', 'sh', '-c', script]);
      assert.equal(r.code, 0, r.stderr);
    },
    async apply(manifest) {
      const r = await ts.kubectl(['apply', '-f', '-'], { input: manifest });
      assert.equal(r.code, 0, r.stderr);
    },
    waitRunning(name, o = {}) {
      return waitFor(`pod ${name} Running and ready`, async () => {
        const p = await getPod(name, o.namespace);
        return p.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.ready) ? p : undefined;
      }, o.timeoutMs ?? 60_000);
    },
    async exec(pod, args, o = {}) {
      const r = await ts.kubectl(['exec', '-n', o.namespace ?? 'default', pod, ...(o.container ? ['-c', o.container] : []), '--', ...args]);
      if (!o.allowFailure) assert.equal(r.code, 0, `exec ${args.join(' ')} in ${pod}: ${r.stderr}`);
      return r;
    },
    async events(name, namespace = 'default') {
      const r = await ts.request('GET', `/api/v1/namespaces/${namespace}/events?fieldSelector=involvedObject.name%3D${name}`);
      return r.json<{ items: Event[] }>().items;
    },
  };
}
