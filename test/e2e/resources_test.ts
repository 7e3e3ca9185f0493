// End to end (root): requests and limits reach the container's cgroup (memory limit, CFS quota, cpu
// shares), a memory hog is OOMKilled with exit code 137, a CPU limit throttles a busy loop, the pod's
// qosClass follows its resources, and node-pressure eviction (an emptyDir over its sizeLimit; a
// memory threshold set above what the node has) fails pods with reason Evicted.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Node, Pod } from '../../src/api/types/core_v1.ts';
import { startE2ECluster, waitFor, TEST_IMAGE, type E2ECluster } from '../../src/testing/e2e_cluster.ts';

let NODE = '';

/** A one-container pod bound straight to the node (no scheduler needed). */
function pod(name: string, script: string, resources: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1, nodeName: NODE, ...extra,
      containers: [{ name: 'main', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], resources }],
    },
  });
}

/** Reads a cgroup file of the container from inside it: v1 per-controller mounts, or v2's unified one. */
async function cgroupFile(c: E2ECluster, podName: string, v1: string, v2: string): Promise<string> {
  const r = await c.exec(podName, ['sh', '-c', `if [ -f /sys/fs/cgroup/cgroup.controllers ]; then cat /sys/fs/cgroup/${v2}; else cat /sys/fs/cgroup/${v1}; fi`]);
  return r.stdout.trim();
}

describe('resources on a real node (root)', { timeout: 180_000 }, () => {
  let c: E2ECluster;
  before(async () => {
    c = await startE2ECluster({ controllers: false, scheduler: false, agent: { kubelet: { evictionMonitoringMs: 1000, evictionPressureTransitionMs: 2000 } } });
    NODE = c.nodeName;
  });
  after(async () => { await c?.stop(); });

  test('limits land in the container cgroup and a Guaranteed pod says so', async () => {
    await c.apply(pod('guaranteed', 'sleep 3600', { limits: { cpu: '200m', memory: '64Mi' } }));
    const p = await c.waitRunning('guaranteed');
    assert.equal(p.status?.qosClass, 'Guaranteed');
    const v2 = (await cgroupFile(c, 'guaranteed', 'memory/memory.limit_in_bytes', 'memory.max'));
    assert.equal(v2, String(64 * 1024 * 1024));
    const quota = await cgroupFile(c, 'guaranteed', 'cpu/cpu.cfs_quota_us', 'cpu.max');
    // v1: the quota alone; v2: "quota period"
    assert.match(quota, /^20000( 100000)?$/);
    const shares = await cgroupFile(c, 'guaranteed', 'cpu/cpu.shares', 'cpu.weight');
    // 200m -> 204 shares (v1); v2 maps shares to a weight of 1 + ((204 - 2) * 9999) / 262142 = 8
    assert.ok(shares === '204' || shares === '8', `cpu shares/weight ${shares}`);
  });

  test('a pod bound by nodeName that asks for more cpu than is left is rejected OutOfcpu', async () => {
    const node = (await c.ts.request('GET', `/api/v1/nodes/${NODE}`)).json<Node>();
    const millis = Math.round(Number(node.status!.allocatable!['cpu']) * 1000);
    await c.apply(pod('greedy', 'sleep 3600', { requests: { cpu: `${millis + 1000}m` } }));
    const p = await waitFor('greedy rejected', async () => {
      const got = await c.getPod('greedy');
      return got.status?.phase === 'Failed' ? got : undefined;
    }, 15_000);
    assert.equal(p.status?.reason, 'OutOfcpu');
    assert.match(p.status?.message ?? '', new RegExp(`^Pod was rejected: Node didn't have enough resource: cpu, requested: ${millis + 1000}, used: \\d+, capacity: ${millis}$`));
    assert.ok((await c.events('greedy')).some((e) => e.reason === 'OutOfcpu'));
  });

  test('Burstable and BestEffort pods get their QoS class and oom_score_adj', async () => {
    await c.apply(pod('burstable', 'sleep 3600', { requests: { memory: '32Mi' } }));
    await c.apply(pod('besteffort', 'sleep 3600', {}));
    const b = await c.waitRunning('burstable');
    const be = await c.waitRunning('besteffort');
    assert.equal(b.status?.qosClass, 'Burstable');
    assert.equal(be.status?.qosClass, 'BestEffort');
    assert.equal((await c.exec('besteffort', ['cat', '/proc/1/oom_score_adj'])).stdout.trim(), '1000');
    const adj = Number((await c.exec('burstable', ['cat', '/proc/1/oom_score_adj'])).stdout.trim());
    assert.ok(adj > 2 && adj < 1000, `burstable oom_score_adj ${adj}`);
    // without CAP_SYS_RESOURCE containerd clamps a lower score to its own (restrict_oom_score_adj)
    const restricted = /restrict_oom_score_adj = true/.test(readFileSync(c.agent.containerd.paths.config, 'utf8'));
    const floor = restricted ? Number(readFileSync(`/proc/${c.agent.containerd.pid}/oom_score_adj`, 'utf8').trim()) : -997;
    assert.equal(Number((await c.exec('guaranteed', ['cat', '/proc/1/oom_score_adj'])).stdout.trim()), Math.max(-997, floor));
  });

  test('a memory hog over its limit is OOMKilled with exit code 137', async () => {
    // doubling a shell variable grows the shell itself past the 32Mi limit within a second
    await c.apply(pod('hog', 'x=0123456789abcdef; while :; do x="$x$x"; done', { limits: { memory: '32Mi' } }, { restartPolicy: 'Never' }));
    const p = await waitFor('hog terminated', async () => {
      const got = await c.getPod('hog');
      return got.status?.containerStatuses?.[0]?.state?.terminated ? got : undefined;
    }, 60_000);
    const t = p.status!.containerStatuses![0]!.state!.terminated!;
    assert.equal(t.reason, 'OOMKilled');
    assert.equal(t.exitCode, 137);
    assert.equal(p.status?.phase, 'Failed');
  });

  test('an OOMKilled container that restarts keeps OOMKilled in lastState', async () => {
    await c.apply(pod('hog2', 'x=0123456789abcdef; while :; do x="$x$x"; done', { limits: { memory: '32Mi' } }));
    const p = await waitFor('hog2 restarted after an OOM kill', async () => {
      const got: Pod = await c.getPod('hog2');
      const s = got.status?.containerStatuses?.[0];
      return s && s.restartCount >= 1 && s.lastState?.terminated ? got : undefined;
    }, 60_000);
    const last = p.status!.containerStatuses![0]!.lastState!.terminated!;
    assert.equal(last.reason, 'OOMKilled');
    assert.equal(last.exitCode, 137);
  });

  test('a CPU limit throttles a busy loop', async () => {
    await c.apply(pod('busy', 'while :; do :; done', { limits: { cpu: '100m' } }));
    await c.waitRunning('busy');
    const stat = await waitFor('throttled periods', async () => {
      const s = await cgroupFile(c, 'busy', 'cpu/cpu.stat', 'cpu.stat');
      const n = Number(/nr_throttled (\d+)/.exec(s)?.[1] ?? 0);
      return n > 0 ? s : undefined;
    }, 20_000);
    assert.match(stat, /nr_throttled [1-9]/);
    // 100m of a 100 ms period is 10 ms of CPU a period: over a second, well under half a CPU
    const usage = async (): Promise<number> => {
      const r = await c.exec('busy', ['sh', '-c', 'if [ -f /sys/fs/cgroup/cpu.stat ]; then sed -n "s/^usage_usec /us /p" /sys/fs/cgroup/cpu.stat; else echo "ns $(cat /sys/fs/cgroup/cpuacct/cpuacct.usage)"; fi']);
      const [unit, n] = r.stdout.trim().split(' ');
      return Number(n) / (unit === 'ns' ? 1e9 : 1e6);
    };
    const t0 = Date.now();
    const u0 = await usage();
    await new Promise((r) => setTimeout(r, 1000));
    const used = (await usage()) - u0;
    const wall = (Date.now() - t0) / 1000;
    assert.ok(used / wall < 0.4, `busy loop used ${used.toFixed(3)} s of CPU in ${wall.toFixed(3)} s`);
  });

  test('an emptyDir over its sizeLimit gets its pod evicted', async () => {
    await c.apply(JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'filler' },
      spec: {
        nodeName: NODE, terminationGracePeriodSeconds: 30, volumes: [{ name: 'data', emptyDir: { sizeLimit: '1Mi' } }],
        containers: [{ name: 'main', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'dd if=/dev/zero of=/data/f bs=1024 count=4096; sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      },
    }));
    const p = await waitFor('filler evicted', async () => {
      const got = await c.getPod('filler');
      return got.status?.phase === 'Failed' ? got : undefined;
    }, 30_000);
    assert.equal(p.status?.reason, 'Evicted');
    assert.equal(p.status?.message, 'Usage of EmptyDir volume "data" exceeds the limit "1Mi". ');
    assert.ok(p.status?.containerStatuses?.[0]?.state?.terminated, 'the container was stopped');
    const ev = (await c.events('filler')).find((e) => e.reason === 'Evicted');
    assert.equal(ev?.type, 'Warning');
    assert.equal(ev?.message, 'Usage of EmptyDir volume "data" exceeds the limit "1Mi". ');
  });

  test('memory pressure evicts the pod most over its request, raises MemoryPressure and refuses BestEffort pods', async () => {
    // only the pods of this test on the node, so the ranking is ours to predict
    const del = await c.ts.kubectl(['delete', 'pods', '--all', '--grace-period=1', '--wait=true']);
    assert.equal(del.code, 0, del.stderr);
    await c.apply(pod('hungry', 'x=0123456789abcdef; i=0; while [ $i -lt 20 ]; do x="$x$x"; i=$((i+1)); done; sleep 3600', {}));
    await c.apply(pod('modest', 'sleep 3600', { requests: { memory: '64Mi' } }));
    await c.waitRunning('hungry');
    await c.waitRunning('modest');
    const kubelet = c.agent.kubelet;
    // a threshold over nearly all the node's memory is met whatever the machine
    kubelet.eviction.setThresholds({ 'memory.available': '99%' });
    try {
      const p = await waitFor('hungry evicted', async () => {
        const got = await c.getPod('hungry');
        return got.status?.phase === 'Failed' ? got : undefined;
      }, 30_000);
      assert.equal((await c.getPod('modest')).status?.phase, 'Running', 'the pod within its request goes later');
      assert.equal(p.status?.reason, 'Evicted');
      const re = /^The node was low on resource: memory\. Threshold quantity: \d+(Ki|Mi|Gi)?, available: \d+(Ki|Mi|Gi)?\. Container main was using \d+(Ki|Mi)?, request is 0, has larger consumption of memory\. $/;
      assert.match(p.status?.message ?? '', re);
      const dt = p.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
      assert.equal(dt?.status, 'True');
      assert.equal(dt?.reason, 'TerminationByKubelet');
      assert.equal(dt?.message, p.status?.message);
      const ev = (await c.events('hungry')).find((e) => e.reason === 'Evicted');
      assert.equal(ev?.message, p.status?.message);
      assert.equal(ev?.metadata?.annotations?.['starved_resource'], 'memory');
      assert.equal(ev?.metadata?.annotations?.['offending_containers'], 'main');

      const node = await waitFor('MemoryPressure', async () => {
        const r = await c.ts.request('GET', `/api/v1/nodes/${NODE}`);
        const n = r.json<Node>();
        return n.status?.conditions?.find((x) => x.type === 'MemoryPressure')?.status === 'True' ? n : undefined;
      }, 10_000);
      const cond = node.status!.conditions!.find((x) => x.type === 'MemoryPressure')!;
      assert.equal(cond.reason, 'KubeletHasInsufficientMemory');
      assert.equal(cond.message, 'kubelet has insufficient memory available');

      await c.apply(pod('late', 'sleep 3600', {}));
      const late = await waitFor('late rejected', async () => {
        const got = await c.getPod('late');
        return got.status?.phase === 'Failed' ? got : undefined;
      }, 15_000);
      assert.equal(late.status?.reason, 'Evicted');
      assert.equal(late.status?.message, 'Pod was rejected: The node had condition: [MemoryPressure]. ');
    } finally {
      kubelet.eviction.setThresholds({});
    }
    await waitFor('MemoryPressure over', async () => {
      const n = (await c.ts.request('GET', `/api/v1/nodes/${NODE}`)).json<Node>();
      return n.status?.conditions?.find((x) => x.type === 'MemoryPressure')?.status === 'False';
    }, 15_000);
  });
});
