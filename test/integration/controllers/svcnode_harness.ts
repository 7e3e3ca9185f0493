// Shared pieces of the service/node/policy controller integration tests: start chosen registered
// controllers against a test server the way the controller manager does (informers first, then
// workers), a fake kubelet that makes pods Running/Ready through the status subresource, and
// bounded polling of kubectl output.
import assert from 'node:assert/strict';
import type { TestServer } from '../../../src/testing/test_server.ts';
import { RestClient } from '../../../src/client/rest_client.ts';
import { SharedInformerFactory } from '../../../src/client/informer_factory.ts';
import { EventBroadcaster } from '../../../src/client/events.ts';
import { realClock, formatTime } from '../../../src/client/clock.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import { registeredControllers, type Controller, type ControllerContext, type ControllerOptions } from '../../../src/controllers/registry.ts';
import type { Pod } from '../../../src/api/types/core_v1.ts';

/** Running controllers and the client they use. */
export interface RunningControllers {
  readonly client: RestClient;
  readonly ctx: ControllerContext;
  readonly controllers: Controller[];
  stop(): Promise<void>;
}

/** Builds the named registered controllers over `s`, starts their informers, waits, runs them. */
export async function startControllers(
  s: TestServer, names: readonly string[], options: Partial<ControllerOptions> = {},
  build: (ctx: ControllerContext) => Controller[] = () => [],
): Promise<RunningControllers> {
  const client = await RestClient.fromKubeconfig(s.kubeconfig);
  const informers = new SharedInformerFactory(client);
  const broadcaster = new EventBroadcaster({ client });
  const ctx: ControllerContext = {
    client, informers, clock: realClock,
    recorder: (component) => broadcaster.newRecorder({ component }),
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: 'test-ca', ...options },
  };
  const entries = registeredControllers().filter((e) => names.includes(e.name));
  assert.equal(entries.length, names.length, `unknown controller among ${names.join(', ')}`);
  const controllers = [...entries.map((e) => e.factory(ctx)), ...build(ctx)];
  informers.start();
  assert.ok(await informers.waitForCacheSync(10_000), 'informers did not sync');
  for (const c of controllers) await c.run(2);
  return {
    client, ctx, controllers,
    async stop() {
      for (const c of controllers) await c.dispose();
      await broadcaster.dispose();
      await informers.dispose();
      await client.dispose();
    },
  };
}

/** Polls `fn` until it returns a value other than undefined (bounded). */
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
export async function kubectlOk(s: TestServer, args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** kubectl get -o json of one object or list. */
export async function getJson(s: TestServer, args: string[]): Promise<any> {
  return JSON.parse(await kubectlOk(s, ['get', ...args, '-o', 'json']));
}

/** The fake kubelet: sets a pod Running with `ip` and the given readiness through /status. */
export async function setPodStatus(client: RestClient, namespace: string, name: string, opts: { ip?: string; ready: boolean; phase?: string; sinceMs?: number }): Promise<Pod> {
  const pods = client.resource<Pod>(resourceDescriptor('v1', 'pods'), namespace);
  for (let attempt = 0; ; attempt++) {
    const pod = await pods.get(name);
    const now = formatTime(opts.sinceMs ?? Date.now());
    const ready = opts.ready ? 'True' : 'False';
    const prev = pod.status?.conditions?.find((c) => c.type === 'Ready');
    const ip = opts.ip ?? pod.status?.podIP;
    pod.status = {
      ...pod.status,
      phase: opts.phase ?? 'Running',
      ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
      startTime: pod.status?.startTime ?? now,
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: ready, lastTransitionTime: prev?.status === ready ? prev.lastTransitionTime ?? now : now },
        { type: 'ContainersReady', status: ready, lastTransitionTime: now },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      ],
    };
    try {
      return await pods.updateStatus(pod);
    } catch (err) {
      if (attempt < 5 && (err as { code?: number }).code === 409) continue;
      throw err;
    }
  }
}

let nsCounter = 0;
/** A fresh namespace name for one test. */
export async function freshNamespace(s: TestServer, prefix: string): Promise<string> {
  const ns = `${prefix}${++nsCounter}-${process.pid}`;
  await kubectlOk(s, ['create', 'namespace', ns]);
  return ns;
}

/** A fake node: a Node with a Ready condition and a Lease in kube-node-lease renewed until stopped. */
export interface FakeNode {
  readonly name: string;
  /** Stops renewing the Lease (the kubelet "dies"). */
  stopHeartbeat(): void;
}

/** Registers node `name` with Ready=True and renews its Lease every `renewMs` until stopped. */
export async function startFakeNode(client: RestClient, name: string, opts: { labels?: Record<string, string>; renewMs?: number } = {}): Promise<FakeNode> {
  const nodes = client.resource<any>(resourceDescriptor('v1', 'nodes'));
  const leases = client.resource<any>(resourceDescriptor('coordination.k8s.io/v1', 'leases'), 'kube-node-lease');
  await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } } });
  const now = formatTime(Date.now());
  const status = {
    conditions: [
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: now, lastTransitionTime: now },
    ],
    addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
  };
  // Controllers may write the node between our reads: retry on conflicts.
  for (let attempt = 0; ; attempt++) {
    const node = await nodes.get(name);
    node.status = status;
    try {
      await nodes.updateStatus(node);
      break;
    } catch (err) {
      if (attempt < 5 && (err as { code?: number }).code === 409) continue;
      throw err;
    }
  }
  const micro = (): string => new Date().toISOString().replace(/Z$/, '000Z');
  await leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: micro() } });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const renew = async (): Promise<void> => {
    if (stopped) return;
    try {
      const l = await leases.get(name);
      l.spec.renewTime = micro();
      await leases.update(l);
    } catch { /* the next tick retries */ }
    if (!stopped) timer = setTimeout(() => void renew(), opts.renewMs ?? 300);
  };
  timer = setTimeout(() => void renew(), opts.renewMs ?? 300);
  return {
    name,
    stopHeartbeat() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
