// Simulated nodes against a real in-process API server, seen through kubectl: nodes register Ready,
// Leases renew, pods bound to them start (and become ready after their probe delay), Job-like pods
// complete or fail, deleting a pod completes, and nodes and pods marked unready by someone else recover.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { startSimNodes, type SimNodes } from '../../../src/sim/sim_nodes.ts';

let s: TestServer;
let sim: SimNodes;

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs` with the last seen state. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function kubectl(...args: string[]): Promise<string> {
  const r = await s.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function apply(yaml: string): Promise<void> {
  const r = await s.kubectl(['apply', '-f', '-'], { input: yaml });
  assert.equal(r.code, 0, r.stderr);
}

/** The kubectl get pods row of one pod, as [NAME, READY, STATUS, RESTARTS, AGE]. */
async function podRow(name: string): Promise<string[]> {
  const out = await kubectl('get', 'pod', name, '--no-headers');
  return out.trim().split(/\s+/);
}

before(async () => {
  s = await startTestServer();
  sim = await startSimNodes({ kubeconfig: s.kubeconfig, count: 3, zones: 2, heartbeatIntervalMs: 300, statusIntervalMs: 600 });
});

after(async () => {
  await sim?.dispose();
  await s?.stop();
});

describe('simulated nodes', () => {
  test('three simulated nodes show Ready in kubectl get nodes', async () => {
    const out = await kubectl('get', 'nodes', '--no-headers');
    const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[4]]), [
      ['sim-0', 'Ready', 'v1.32.4+tkube'],
      ['sim-1', 'Ready', 'v1.32.4+tkube'],
      ['sim-2', 'Ready', 'v1.32.4+tkube'],
    ]);
    const wide = await kubectl('get', 'node', 'sim-1', '-o', 'wide', '--no-headers');
    assert.match(wide, /\s10\.244\.0\.2\s+<none>\s+tkube simulated node\s+6\.1\.0-sim\s+sim:\/\/1\.0/);
    const labels = JSON.parse(await kubectl('get', 'nodes', '-o', 'jsonpath={.items[*].metadata.labels}').then((t) => `[${t.trim().split(' ').join(',')}]`)) as Record<string, string>[];
    assert.deepEqual(labels.map((l) => l['topology.kubernetes.io/zone']), ['zone-a', 'zone-b', 'zone-a']);
    assert.ok(labels.every((l) => l['node.tkube.io/simulated'] === 'true' && l['kubernetes.io/os'] === 'linux'));
    const described = await kubectl('describe', 'node', 'sim-0');
    assert.match(described, /Ready\s+True\s.*KubeletReady\s+kubelet is posting ready status/);
    assert.match(described, /PIDPressure\s+False\s.*KubeletHasSufficientPID\s+kubelet has sufficient PID available/);
  });

  test('each node keeps a Lease in kube-node-lease and renews it', async () => {
    const read = async () => JSON.parse(await kubectl('get', 'lease', '-n', 'kube-node-lease', 'sim-2', '-o', 'json')) as { spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string }; metadata: { ownerReferences: { kind: string; name: string }[] } };
    const first = await read();
    assert.equal(first.spec.holderIdentity, 'sim-2');
    assert.equal(first.spec.leaseDurationSeconds, 40);
    assert.match(first.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.deepEqual(first.metadata.ownerReferences.map((o) => [o.kind, o.name]), [['Node', 'sim-2']]);
    await eventually('a renewed lease', async () => ((await read()).spec.renewTime > first.spec.renewTime ? true : undefined));
    // Status reports refresh the heartbeat of the Ready condition too.
    const hb = async () => (await kubectl('get', 'node', 'sim-2', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}')).trim();
    const before = await hb();
    await eventually('a newer node heartbeat', async () => ((await hb()) > before ? true : undefined));
  });

  test('a pod bound to a simulated node turns Running 1/1 with addresses and container statuses', async () => {
    await apply('apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  nodeName: sim-1\n  containers:\n  - name: nginx\n    image: nginx:1.27\n');
    const row = await eventually('web Running', async () => {
      const r = await podRow('web');
      return r[2] === 'Running' ? r : undefined;
    });
    assert.deepEqual(row.slice(0, 4), ['web', '1/1', 'Running', '0']);
    const pod = JSON.parse(await kubectl('get', 'pod', 'web', '-o', 'json')) as { status: Record<string, any> };
    assert.equal(pod.status['hostIP'], '10.244.0.2');
    assert.match(pod.status['podIP'], /^100\.64\.1\.\d+$/);
    assert.deepEqual(pod.status['conditions'].map((c: { type: string; status: string }) => `${c.type}=${c.status}`),
      ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
    const cs = pod.status['containerStatuses'][0];
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.match(cs.containerID, /^sim:\/\/[0-9a-f]{64}$/);
    assert.ok(cs.state.running.startedAt);
  });

  test('readiness waits for the probe\'s initialDelaySeconds', async () => {
    await apply([
      'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: slow-ready', 'spec:', '  nodeName: sim-0', '  containers:',
      '  - name: app', '    image: app:1', '    readinessProbe:', '      initialDelaySeconds: 2', '      tcpSocket:', '        port: 80', '',
    ].join('\n'));
    const started = Date.now();
    const running = await eventually('slow-ready Running', async () => {
      const r = await podRow('slow-ready');
      return r[2] === 'Running' ? r : undefined;
    });
    assert.equal(running[1], '0/1', 'not ready before the probe delay');
    await eventually('slow-ready 1/1', async () => ((await podRow('slow-ready'))[1] === '1/1' ? true : undefined));
    assert.ok(Date.now() - started >= 1500, 'ready only after about initialDelaySeconds');
  });

  test('a Job-like pod with complete-after becomes Completed; one with fail-after shows Error', async () => {
    await apply([
      'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: done', '  annotations:', '    sim.tkube.io/complete-after: 1s',
      'spec:', '  nodeName: sim-2', '  restartPolicy: Never', '  containers:', '  - name: main', '    image: busybox',
      '---', 'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: broken', '  annotations:', '    sim.tkube.io/fail-after: 1s',
      'spec:', '  nodeName: sim-2', '  restartPolicy: Never', '  containers:', '  - name: main', '    image: busybox', '',
    ].join('\n'));
    const done = await eventually('done Completed', async () => {
      const r = await podRow('done');
      return r[2] === 'Completed' ? r : undefined;
    });
    assert.equal(done[1], '0/1');
    await eventually('broken Error', async () => ((await podRow('broken'))[2] === 'Error' ? true : undefined));
    const phase = (await kubectl('get', 'pod', 'broken', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}')).trim();
    assert.equal(phase, 'Failed 1');
  });

  test('deleting a running pod completes: the sim confirms the graceful deletion', async () => {
    await apply('apiVersion: v1\nkind: Pod\nmetadata:\n  name: doomed\nspec:\n  nodeName: sim-0\n  containers:\n  - name: c\n    image: busybox\n');
    await eventually('doomed Running', async () => ((await podRow('doomed'))[2] === 'Running' ? true : undefined));
    const t0 = Date.now();
    // Default grace period (30 s): only the simulated kubelet's confirmation makes this return early.
    await kubectl('delete', 'pod', 'doomed', '--timeout=20s');
    assert.ok(Date.now() - t0 < 10_000, `delete took ${Date.now() - t0} ms`);
    const r = await s.kubectl(['get', 'pod', 'doomed']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pods "doomed" not found/);
  });

  test('a node marked Unknown reports Ready at once, and its pods marked NotReady turn Ready again', async () => {
    // Status reports every 5 minutes, as the kubelet: only the reaction to the change can bring it back in time.
    const quiet = await startSimNodes({ kubeconfig: s.kubeconfig, count: 1, namePrefix: 'quiet-', statusIntervalMs: 300_000 });
    try {
      await apply('apiVersion: v1\nkind: Pod\nmetadata:\n  name: guarded\nspec:\n  nodeName: quiet-0\n  containers:\n  - name: c\n    image: busybox\n');
      await eventually('guarded 1/1', async () => ((await podRow('guarded'))[1] === '1/1' ? true : undefined));
      // What the node lifecycle controller does when a node's Lease lapses: the node first, then its pods.
      await kubectl('patch', 'node', 'quiet-0', '--subresource=status', '--type=strategic', '-p',
        JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }] } }));
      await kubectl('patch', 'pod', 'guarded', '--subresource=status', '--type=strategic', '-p',
        JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'False' }] } }));
      const ready = async () => (await kubectl('get', 'node', 'quiet-0', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}')).trim();
      await eventually('quiet-0 Ready again', async () => ((await ready()) === 'True KubeletReady' ? true : undefined), 5000);
      const podReady = async () => (await kubectl('get', 'pod', 'guarded', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')).trim();
      await eventually('guarded Ready again', async () => ((await podReady()) === 'True' ? true : undefined), 5000);
    } finally {
      await quiet.dispose();
    }
  });

  test('pods on nodes that are not simulated are left alone', async () => {
    await apply('apiVersion: v1\nkind: Pod\nmetadata:\n  name: elsewhere\nspec:\n  nodeName: real-node\n  containers:\n  - name: c\n    image: busybox\n');
    // A pod of the sim's created afterwards starts: by then the sim has seen (and ignored) the other one.
    await apply('apiVersion: v1\nkind: Pod\nmetadata:\n  name: marker\nspec:\n  nodeName: sim-2\n  containers:\n  - name: c\n    image: busybox\n');
    await eventually('marker Running', async () => ((await podRow('marker'))[2] === 'Running' ? true : undefined));
    assert.equal((await podRow('elsewhere'))[2], 'Pending');
  });
});
