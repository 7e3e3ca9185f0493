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
export async function startControllers(s: TestServer, names: readonly string[], options: Partial<ControllerOptions> = {}): Promise<RunningControllers> {
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
  const controllers = entries.map((e) => e.factory(ctx));
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
export async function setPodStatus(client: RestClient, namespace: string, name: string, opts: { ip?: string; ready: boolean; phase?: string }): Promise<Pod> {
  const pods = client.resource<Pod>(resourceDescriptor('v1', 'pods'), namespace);
  for (let attempt = 0; ; attempt++) {
    const pod = await pods.get(name);
    const now = formatTime(Date.now());
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
