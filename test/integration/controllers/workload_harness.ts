// Shared pieces of the ReplicaSet/Deployment/GC/namespace integration tests: a test server with
// the controller manager running chosen controllers, a fake kubelet that turns pods Running and
// Ready through pods/status (automatically, or only when told), and bounded polling helpers.
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { RestClient } from '../../../src/client/rest_client.ts';
import { SharedInformerFactory } from '../../../src/client/informer_factory.ts';
import { formatTime } from '../../../src/client/clock.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import { startControllerManager, type ControllerManager } from '../../../src/controllers/manager.ts';
import type { Pod } from '../../../src/api/types/core_v1.ts';

const PODS = resourceDescriptor('v1', 'pods');

/** Makes pods Running/Ready the way a kubelet would report them. */
export class FakeKubelet {
  readonly client: RestClient;
  /** When false, pods stay Pending until markReady() names them. */
  auto: boolean;
  /** Pods whose name matches are never made ready automatically (e.g. a broken image). */
  holdIf: (pod: Pod) => boolean = () => false;
  #factory: SharedInformerFactory;
  #inFlight = new Set<string>();

  constructor(client: RestClient, auto: boolean) {
    this.client = client;
    this.auto = auto;
    this.#factory = new SharedInformerFactory(client);
    const inf = this.#factory.informerFor<Pod>(PODS);
    inf.addEventHandler({
      onAdd: (p) => this.#maybeReady(p),
      onUpdate: (_o, p) => this.#maybeReady(p),
    });
  }

  async start(): Promise<void> {
    this.#factory.start();
    assert.ok(await this.#factory.waitForCacheSync(10_000), 'fake kubelet informer did not sync');
  }

  /** Pods currently cached (all namespaces). */
  pods(): Pod[] {
    return this.#factory.informerFor<Pod>(PODS).lister.list();
  }

  #maybeReady(pod: Pod): void {
    if (!this.auto || this.holdIf(pod)) return;
    if (pod.metadata?.deletionTimestamp || isReady(pod)) return;
    void this.markReady(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '').catch(() => undefined);
  }

  /** Reports the pod Running and Ready (Ready since now). */
  async markReady(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    if (this.#inFlight.has(key)) return;
    this.#inFlight.add(key);
    try {
      const now = formatTime(Date.now());
      await this.client.resource<Pod>(PODS, namespace).patchStatus(name, 'merge', {
        status: {
          phase: 'Running',
          conditions: [
            { type: 'Initialized', status: 'True', lastTransitionTime: now },
            { type: 'Ready', status: 'True', lastTransitionTime: now },
            { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
            { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          ],
        },
      });
    } finally {
      this.#inFlight.delete(key);
    }
  }

  async dispose(): Promise<void> {
    await this.#factory.dispose();
  }
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** A server, the controller manager and a fake kubelet. */
export interface Harness {
  readonly s: TestServer;
  readonly client: RestClient;
  readonly cm: ControllerManager;
  readonly kubelet: FakeKubelet;
  stop(): Promise<void>;
}

/** Starts everything; `controllers` as the manager's --controllers. */
export async function startHarness(controllers: readonly string[], opts: { autoReady?: boolean } = {}): Promise<Harness> {
  const s = await startTestServer();
  const client = await RestClient.fromKubeconfig(s.kubeconfig);
  const cm = await startControllerManager({
    client, controllers, leaderElection: false, identity: 'test-kcm', cacheSyncTimeoutMs: 10_000,
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: 'test-ca' },
  });
  await cm.started;
  const kubelet = new FakeKubelet(client, opts.autoReady ?? true);
  await kubelet.start();
  return {
    s, client, cm, kubelet,
    async stop() {
      await kubelet.dispose();
      await cm.dispose();
      await client.dispose();
      await s.stop();
    },
  };
}

/** Polls `fn` until it returns a value other than undefined (bounded). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs kubectl and fails the test on a non-zero exit. */
export async function kubectlOk(s: TestServer, args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** kubectl get -o json. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function getJson(s: TestServer, args: string[]): Promise<any> {
  return JSON.parse(await kubectlOk(s, ['get', ...args, '-o', 'json']));
}

/** Pods of a namespace through the API (not kubectl: faster for polling). */
export async function listPods(h: Harness, ns: string, labelSelector?: string): Promise<Pod[]> {
  const list = await h.client.resource<Pod>(PODS, ns).list(labelSelector ? { labelSelector } : {});
  return list.items;
}
