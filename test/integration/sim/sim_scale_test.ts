// Simulated nodes at scale against a real in-process API server: 1,000 nodes register and keep
// their Leases fresh with renewals spread over the interval (no bursts), and a thousand pods bound
// to them start. Rates are printed as test diagnostics; the bounds are loose (shared CI machines).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { startSimNodes, type SimNodes } from '../../../src/sim/sim_nodes.ts';
import { RestClient } from '../../../src/client/rest_client.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import type { Lease } from '../../../src/api/types/coordination_v1.ts';
import type { Pod } from '../../../src/api/types/core_v1.ts';

const NODES = 1000;
const PODS = 1000;
const HEARTBEAT_MS = 2000;

let s: TestServer;
let client: RestClient;
let sim: SimNodes;
let registeredAt = 0;

/** Samples `read` every `stepMs` until `done` (or `timeoutMs`); returns the per-step increments. */
async function sampleIncrements(read: () => number, stepMs: number, done: () => boolean, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  const out: number[] = [];
  let prev = read();
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out while sampling');
    await new Promise((r) => setTimeout(r, stepMs));
    const v = read();
    out.push(v - prev);
    prev = v;
  }
  return out;
}

before(async () => {
  s = await startTestServer();
  client = await RestClient.fromKubeconfig(s.kubeconfig);
});

after(async () => {
  await sim?.dispose();
  await client?.dispose();
  await s?.stop();
});

describe('simulated nodes at scale', () => {
  test('1,000 simulated nodes register and keep their leases fresh without bursts', async (t) => {
    const t0 = performance.now();
    sim = await startSimNodes({ client, count: NODES, heartbeatIntervalMs: HEARTBEAT_MS, statusIntervalMs: 30_000 });
    const regMs = performance.now() - t0;
    registeredAt = Date.now();
    t.diagnostic(`registered ${NODES} nodes and leases in ${regMs.toFixed(0)} ms (${((2 * NODES) / regMs * 1000).toFixed(0)} requests/s)`);
    const nodes = await client.resource(resourceDescriptor('v1', 'nodes')).list({ labelSelector: 'node.tkube.io/simulated=true' });
    assert.equal(nodes.items.length, NODES);

    // Two intervals in 100 ms steps: every lease renews, about NODES / interval per second, evenly.
    const start = sim.stats().leaseRenewals;
    const steps = await sampleIncrements(() => sim.stats().leaseRenewals, 100, () => sim.stats().leaseRenewals - start >= 2 * NODES, 60_000);
    const perSecond = ((sim.stats().leaseRenewals - start) / (steps.length * 100)) * 1000;
    const mean = (NODES / HEARTBEAT_MS) * 100;
    const busiest = Math.max(...steps);
    t.diagnostic(`lease renewals: ${perSecond.toFixed(0)}/s (expected ${NODES / (HEARTBEAT_MS / 1000)}/s), busiest 100 ms: ${busiest} (mean ${mean}), skipped rounds: ${sim.stats().leaseSkipped}, failures: ${sim.stats().leaseFailures}`);
    assert.equal(sim.stats().leaseFailures, 0);
    // A burst would put all NODES renewals into one step; spread ones stay near the mean (with room
    // for event-loop stalls on a busy machine, after which the renewals due meanwhile go out together).
    assert.ok(busiest < NODES / 4, `busiest 100 ms step had ${busiest} renewals`);

    const leases = await client.resource<Lease>(resourceDescriptor('coordination.k8s.io/v1', 'leases'), 'kube-node-lease').list();
    const ours = leases.items.filter((l) => l.metadata?.name?.startsWith('sim-'));
    assert.equal(ours.length, NODES);
    const stale = ours.filter((l) => Date.parse(l.spec?.renewTime ?? '') < registeredAt);
    assert.deepEqual(stale.map((l) => l.metadata?.name), [], 'every lease renewed since registration');
  });

  test('a thousand pods bound to simulated nodes start', async (t) => {
    assert.ok(sim, 'the simulator runs');
    const pods = client.resource<Pod>(resourceDescriptor('v1', 'pods'), 'default');
    const before = sim.stats().podPatches;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < PODS) {
        const i = next++;
        await pods.create({ metadata: { name: `load-${i}` }, spec: { nodeName: `sim-${i % NODES}`, containers: [{ name: 'c', image: 'busybox' }] } });
      }
    }));
    const createdMs = performance.now() - t0;
    await sampleIncrements(() => sim.stats().podPatches, 20, () => sim.stats().podPatches - before >= PODS, 60_000);
    const totalMs = performance.now() - t0;
    t.diagnostic(`created ${PODS} pods in ${createdMs.toFixed(0)} ms; all Running ${totalMs.toFixed(0)} ms after the first create (${(PODS / totalMs * 1000).toFixed(0)} pods/s end to end)`);
    const list = await pods.list({ fieldSelector: 'status.phase=Running' });
    assert.equal(list.items.filter((p) => p.metadata?.name?.startsWith('load-')).length, PODS);
    assert.equal(sim.stats().podErrors, 0);
  });
});
