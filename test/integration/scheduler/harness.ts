// A small cluster for scheduler scenarios: an in-process API server, simulated nodes, the node
// lifecycle controller (it lifts the not-ready taint new nodes get at admission) and the scheduler,
// each over the API as in `tkube server`; plus bounded polling and kubectl helpers.
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { startSimNodes, type SimNodes, type SimNodesOptions } from '../../../src/sim/sim_nodes.ts';
import { startControllerManager, type ControllerManager } from '../../../src/controllers/manager.ts';
// Registers itself; all.ts may not list it yet.
import '../../../src/controllers/node_lifecycle/node_lifecycle_controller.ts';
import { startScheduler, type RunningScheduler, type StartSchedulerOptions } from '../../../src/scheduler/wiring/start_scheduler.ts';

/** The running pieces. */
export interface SchedulerCluster {
  readonly s: TestServer;
  readonly sim: SimNodes;
  readonly cm: ControllerManager;
  readonly sched: RunningScheduler;
  stop(): Promise<void>;
}

/** Polls `fn` until it returns a value other than undefined, failing with the last error after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs kubectl and fails the test on a non-zero exit. */
export async function kubectl(s: TestServer, args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** kubectl get -o json. */
export async function getJson(s: TestServer, args: string[]): Promise<any> {
  return JSON.parse(await kubectl(s, ['get', ...args, '-o', 'json']));
}

/** Creates a namespace named after the test. */
export async function namespace(s: TestServer, name: string): Promise<string> {
  await kubectl(s, ['create', 'namespace', name]);
  return name;
}

/** Waits until pod `name` runs and returns its node. */
export async function runningOn(s: TestServer, ns: string, name: string, timeoutMs = 20_000): Promise<string> {
  return eventually(`pod ${ns}/${name} Running`, async () => {
    const p = await getJson(s, ['pod', name, '-n', ns]);
    return p.status?.phase === 'Running' ? (p.spec.nodeName as string) : undefined;
  }, timeoutMs);
}

/** Waits for the PodScheduled=False condition of pod `name` and returns its message. */
export async function unschedulableMessage(s: TestServer, ns: string, name: string): Promise<string> {
  return eventually(`pod ${ns}/${name} Unschedulable`, async () => {
    const p = await getJson(s, ['pod', name, '-n', ns]);
    const c = (p.status?.conditions ?? []).find((x: any) => x.type === 'PodScheduled');
    return c?.status === 'False' && c.reason === 'Unschedulable' ? (c.message as string) : undefined;
  });
}

/** The nodes of every pod in `ns` by pod name (pending pods map to ""). */
export async function podNodes(s: TestServer, ns: string): Promise<Record<string, string>> {
  const list = (await getJson(s, ['pods', '-n', ns])).items as any[];
  return Object.fromEntries(list.map((p) => [p.metadata.name, p.spec.nodeName ?? '']));
}

/** Starts server, simulated nodes, node lifecycle controller and scheduler; waits for schedulable nodes. */
export async function startCluster(sim: Omit<SimNodesOptions, 'client' | 'kubeconfig'>, sched: Partial<StartSchedulerOptions> = {}): Promise<SchedulerCluster> {
  const s = await startTestServer();
  const parts: { sim?: SimNodes; cm?: ControllerManager; sched?: RunningScheduler } = {};
  const stop = async (): Promise<void> => {
    await parts.sched?.dispose();
    await parts.cm?.dispose();
    await parts.sim?.dispose();
    await s.stop();
  };
  try {
    parts.sim = await startSimNodes({ heartbeatIntervalMs: 1000, statusIntervalMs: 2000, ...sim, kubeconfig: s.kubeconfig });
    parts.cm = await startControllerManager({
      kubeconfig: s.kubeconfig, controllers: ['nodelifecycle'], leaderElection: false, identity: 'test-cm',
      options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: 'test-ca' },
    });
    parts.sched = await startScheduler({ kubeconfig: s.kubeconfig, leaderElection: false, identity: 'test-scheduler', ...sched });
    await parts.sched.started;
    await eventually('nodes without the not-ready taint', async () => {
      const nodes = (await getJson(s, ['nodes'])).items as any[];
      const ready = nodes.filter((n) => !(n.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/not-ready'));
      return ready.length === sim.count ? true : undefined;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { s, sim: parts.sim, cm: parts.cm, sched: parts.sched, stop };
}

/** What podYaml puts in a pod besides its name. */
export interface PodShape {
  readonly labels?: Record<string, string>;
  /** Lines under spec (YAML, indented as if at column 0). */
  readonly spec?: readonly string[];
  /** Requests of the single container. */
  readonly requests?: Record<string, string>;
}

/** One pod manifest as YAML. */
export function podYaml(name: string, ns: string, shape: PodShape = {}): string {
  const labelLines = Object.entries(shape.labels ?? {}).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  const requestLines = Object.entries(shape.requests ?? {}).map(([k, v]) => `        ${k}: ${JSON.stringify(v)}`);
  return [
    'apiVersion: v1', 'kind: Pod', 'metadata:', `  name: ${name}`, `  namespace: ${ns}`,
    ...(labelLines.length > 0 ? ['  labels:', ...labelLines] : []),
    'spec:', ...(shape.spec ?? []).map((l) => `  ${l}`),
    '  containers:', '  - name: app', '    image: registry.k8s.io/pause:3.10',
    ...(requestLines.length > 0 ? ['    resources:', '      requests:', ...requestLines] : []),
    '',
  ].join('\n');
}

/** Applies pod manifests joined as one multi-document stream. */
export async function applyPods(s: TestServer, docs: readonly string[]): Promise<void> {
  await kubectl(s, ['apply', '-f', '-'], docs.join('---\n'));
}
