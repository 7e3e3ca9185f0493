// Shared pieces of the Job/CronJob/DaemonSet/StatefulSet integration tests: a test server with
// chosen controllers built directly (so tests can pass options and a FakeClock), and a fake
// kubelet that reports pods Running/Ready, Succeeded or Failed as each test decides.
import assert from 'node:assert/strict';
import type { Pod } from '../../../src/api/types/core_v1.ts';
import { formatTime, realClock, type Clock } from '../../../src/client/clock.ts';
import { EventBroadcaster } from '../../../src/client/events.ts';
import { SharedInformerFactory } from '../../../src/client/informer_factory.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import { RestClient } from '../../../src/client/rest_client.ts';
import type { Controller, ControllerContext } from '../../../src/controllers/registry.ts';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

const PODS = resourceDescriptor('v1', 'pods');

/** What the fake kubelet does with a pod: nothing, or report one of these phases. */
export type PodOutcome = 'Running' | 'Succeeded' | 'Failed' | undefined;

/** Reports pod status through pods/status as a kubelet would, once per pod and outcome. */
export class PhaseKubelet {
  readonly client: RestClient;
  decide: (pod: Pod) => PodOutcome;
  #factory: SharedInformerFactory;
  #done = new Map<string, string>();

  constructor(client: RestClient, decide: (pod: Pod) => PodOutcome) {
    this.client = client;
    this.decide = decide;
    this.#factory = new SharedInformerFactory(client);
    this.#factory.informerFor<Pod>(PODS).addEventHandler({
      onAdd: (p) => this.#react(p),
      onUpdate: (_o, p) => this.#react(p),
    });
  }

  async start(): Promise<void> {
    this.#factory.start();
    assert.ok(await this.#factory.waitForCacheSync(10_000), 'kubelet informer did not sync');
  }

  #react(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return;
    const outcome = this.decide(pod);
    if (!outcome || pod.status?.phase === outcome) return;
    const uid = pod.metadata?.uid ?? '';
    if (this.#done.get(uid) === outcome) return;
    this.#done.set(uid, outcome);
    void this.report(pod, outcome).catch(() => this.#done.delete(uid));
  }

  /** Writes the status a kubelet reports for `outcome`. */
  async report(pod: Pod, outcome: 'Running' | 'Succeeded' | 'Failed'): Promise<void> {
    const now = formatTime(Date.now());
    const ready = outcome === 'Running' ? 'True' : 'False';
    const names = (pod.spec?.containers ?? []).map((c) => c.name);
    const state = outcome === 'Running'
      ? { running: { startedAt: now } }
      : { terminated: { exitCode: outcome === 'Succeeded' ? 0 : 1, reason: outcome === 'Succeeded' ? 'Completed' : 'Error', startedAt: now, finishedAt: now } };
    await this.client.resource<Pod>(PODS, pod.metadata!.namespace!).patchStatus(pod.metadata!.name!, 'merge', {
      status: {
        phase: outcome,
        startTime: now,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: ready, lastTransitionTime: now },
          { type: 'Ready', status: ready, lastTransitionTime: now },
        ],
        containerStatuses: names.map((name) => ({ name, image: 'busybox', imageID: '', ready: ready === 'True', restartCount: 0, state })),
      },
    });
  }

  pods(): Pod[] {
    return this.#factory.informerFor<Pod>(PODS).lister.list();
  }

  async dispose(): Promise<void> {
    await this.#factory.dispose();
  }
}

/** A server, the controllers under test and a fake kubelet. */
export interface BatchHarness {
  readonly s: TestServer;
  readonly client: RestClient;
  readonly kubelet: PhaseKubelet;
  stop(): Promise<void>;
}

/** Starts a server and the controllers `build` makes from the context (informers started for them). */
export async function startBatchHarness(
  build: (ctx: ControllerContext) => { controller: Controller; workers: number }[],
  opts: { clock?: Clock; decide?: (pod: Pod) => PodOutcome } = {},
): Promise<BatchHarness> {
  const s = await startTestServer();
  const client = await RestClient.fromKubeconfig(s.kubeconfig);
  const informers = new SharedInformerFactory(client);
  const broadcaster = new EventBroadcaster({ client });
  const ctx: ControllerContext = {
    client, informers,
    clock: opts.clock ?? realClock,
    recorder: (component) => broadcaster.newRecorder({ component }),
    options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: 'test-ca' },
  };
  const controllers = build(ctx);
  informers.start();
  assert.ok(await informers.waitForCacheSync(10_000), 'controller informers did not sync');
  for (const c of controllers) await c.controller.run(c.workers);
  const kubelet = new PhaseKubelet(client, opts.decide ?? (() => 'Running'));
  await kubelet.start();
  return {
    s, client, kubelet,
    async stop() {
      await kubelet.dispose();
      for (const c of controllers) await c.controller.dispose();
      await informers.dispose();
      await broadcaster.dispose();
      await client.dispose();
      await s.stop();
    },
  };
}
