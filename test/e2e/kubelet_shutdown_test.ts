// End to end (root): stopping the agent while pods that ignore SIGTERM are terminating (one deleted
// gracefully, one force-deleted) does not wait out their grace periods, and their containers keep
// running as after a kubelet crash; the next agent on the same data dir finishes both deletions and
// unmounts and removes the pods' directories.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent, type Agent } from '../../src/agent/agent.ts';
import { startE2ECluster, waitFor, type E2ECluster } from '../../src/testing/e2e_cluster.ts';

/** Processes whose command line holds `marker` (a container's root is its own: match by command). */
function processesWith(marker: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker); } catch { return false; }
  }).map(Number);
}

/** Mount points under dir, from this process's mount table. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir + '/'));
}

describe('kubelet shutdown (root)', { timeout: 180_000 }, () => {
  let c: E2ECluster;
  let next: Agent | undefined;
  before(async () => { c = await startE2ECluster(); });
  after(async () => {
    if (next) {
      await next.kubelet.dispose();
      for (const s of await next.cri.listPodSandbox().catch(() => [])) {
        await next.cri.stopPodSandbox(s.id).catch(() => undefined);
        await next.cri.removePodSandbox(s.id).catch(() => undefined);
      }
      await next.dispose();
    }
    await c?.stop();
  });

  test('the agent stops at once amid long terminations; the next one finishes the deletions and cleans up', async (t) => {
    const grace = 8;
    const script = (name: string): string => `trap "" TERM; while true; do sleep 1; done # ${name}-${process.pid}`;
    const running = (name: string): number => processesWith(`${name}-${process.pid}`).length;
    await c.run('stubborn', script('stubborn'), { spec: { terminationGracePeriodSeconds: grace } });
    await c.run('forced', script('forced'), { spec: { terminationGracePeriodSeconds: grace } });
    const podDirs = await Promise.all(['stubborn', 'forced'].map(async (name) => {
      const pod = await c.waitRunning(name);
      const dir = join(c.dataDir, 'agent', 'kubelet', 'pods', pod.metadata!.uid!);
      assert.ok(mountsUnder(dir).length > 0, `${name}: the service account token volume is a mount under the pod directory`);
      assert.equal(running(name), 1);
      return dir;
    }));

    // one pod deleted gracefully, one force-deleted (gone from the API, stopped with its own grace period)
    const del = await c.ts.kubectl(['delete', 'pod', 'stubborn', `--grace-period=${grace}`, '--wait=false']);
    assert.equal(del.code, 0, del.stderr);
    const force = await c.ts.kubectl(['delete', 'pod', 'forced', '--force', '--grace-period=0']);
    assert.equal(force.code, 0, force.stderr);
    const deadline = Date.parse((await c.getPod('stubborn')).metadata!.deletionTimestamp!);
    // the kubelet records Killing just before it asks containerd to stop a container
    for (const name of ['stubborn', 'forced']) {
      await waitFor(`${name}: the Killing event`, async () => (await c.events(name)).some((e) => e.reason === 'Killing'));
    }

    const t0 = performance.now();
    await c.agent.dispose();
    const stopMs = performance.now() - t0;
    assert.ok(stopMs < 5000, `the agent took ${Math.round(stopMs)} ms to stop`);
    t.diagnostic(`agent stopped in ${Math.round(stopMs)} ms`);
    assert.equal(running('stubborn') + running('forced'), 2, 'the containers still run, as after a kubelet crash');
    assert.ok((await c.getPod('stubborn')).metadata?.deletionTimestamp, 'the deletion is not confirmed yet');

    // and a pod gone from the API and the runtime whose teardown stopped before its unmount
    const orphanDir = join(c.dataDir, 'agent', 'kubelet', 'pods', randomUUID());
    const orphanVolume = join(orphanDir, 'volumes', 'kubernetes.io~secret', 'creds');
    mkdirSync(orphanVolume, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', orphanVolume]);
    podDirs.push(orphanDir);

    next = await startAgent({
      dataDir: c.dataDir, nodeName: c.nodeName, nodeIP: '127.0.0.1', kubeconfig: c.ts.kubeconfig, clusterCa: c.pki.ca,
      kubeletPort: 0, kubeletBindAddress: '127.0.0.1', podCIDR: c.net.subnet, bridge: c.net.bridge, ipMasq: false,
      enableIpForward: false, nodeTaints: [], containerd: { restartDelayMs: 100 },
      kubelet: { evictionHard: { 'memory.available': '100Mi' }, imageGC: { highThresholdPercent: 100, lowThresholdPercent: 100 } },
    });
    await waitFor('the pod deleted', async () => (await c.ts.request('GET', '/api/v1/namespaces/default/pods/stubborn')).status === 404, 60_000);
    // SIGTERM is ignored: only the kill at the end of a grace period ends it (the new kubelet grants the
    // whole period again, as upstream's calculateEffectiveGracePeriod does)
    assert.ok(Date.now() >= deadline - 1500, `deleted ${deadline - Date.now()} ms before its grace period ran out`);
    assert.equal(running('stubborn'), 0);
    await waitFor('the force-deleted pod\'s container stopped', () => running('forced') === 0, 20_000);
    await waitFor('the pod directories unmounted and removed', () => podDirs.every((d) => mountsUnder(d).length === 0 && !existsSync(d)), 20_000);
  });
});
