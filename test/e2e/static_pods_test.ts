// End to end (root): static pods from DATA/agent/manifests run on the real node with a mirror pod
// in the API (annotations, Node owner), logs through the mirror, the mirror recreated when deleted,
// the pod replaced when its file changes and removed with its file, and kept running (restarted
// even) while the API server cannot be reached.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, Pod } from '../../src/api/types/core_v1.ts';
import { POD_NAME_LABEL } from '../../src/kubelet/labels.ts';
import { startE2ECluster, waitFor, TEST_IMAGE, type E2ECluster } from '../../src/testing/e2e_cluster.ts';

function manifest(name: string, args: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    tier: static
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${TEST_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "${args}"]
`;
}

describe('static pods (root)', { timeout: 240_000 }, () => {
  let c: E2ECluster;
  let dir = '';
  let mirrorName = '';
  before(async () => {
    c = await startE2ECluster({ controllers: false, scheduler: false });
    dir = join(c.dataDir, 'agent', 'manifests');
    mirrorName = `web-${c.nodeName}`;
  });
  after(async () => { await c?.stop(); });

  const getMirror = async (): Promise<Pod | undefined> => {
    const r = await c.ts.request('GET', `/api/v1/namespaces/default/pods/${mirrorName}`);
    return r.status === 200 ? r.json<Pod>() : undefined;
  };
  const runningSandboxes = async (): Promise<number> =>
    (await c.agent.cri.listPodSandbox({ labelSelector: { [POD_NAME_LABEL]: mirrorName } })).filter((s) => s.state === 'SANDBOX_READY').length;

  test('a manifest file runs as a static pod with a mirror pod owned by the Node', async () => {
    writeFileSync(join(dir, 'web.yaml'), manifest('web', 'echo static hello; sleep 3600'));
    const mirror = await waitFor('the mirror pod Running', async () => {
      const m = await getMirror();
      return m?.status?.phase === 'Running' ? m : undefined;
    }, 60_000);
    const a = mirror.metadata!.annotations!;
    assert.equal(a['kubernetes.io/config.source'], 'file');
    assert.match(a['kubernetes.io/config.hash']!, /^[0-9a-f]{32}$/);
    assert.equal(a['kubernetes.io/config.mirror'], a['kubernetes.io/config.hash']);
    assert.ok(a['kubernetes.io/config.seen']);
    assert.notEqual(mirror.metadata!.uid, a['kubernetes.io/config.hash'], 'the mirror has an API UID of its own');
    const node = (await c.ts.request('GET', `/api/v1/nodes/${c.nodeName}`)).json<Node>();
    assert.deepEqual(mirror.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: c.nodeName, uid: node.metadata!.uid, controller: true }]);
    assert.equal(mirror.metadata!.labels!['tier'], 'static');
    assert.equal(mirror.spec!.nodeName, c.nodeName);
    assert.ok(mirror.spec!.tolerations!.some((t) => t.operator === 'Exists' && t.effect === 'NoExecute' && !t.key));
    assert.equal(mirror.status?.containerStatuses?.[0]?.ready, true);
    const logs = await waitFor('logs through the mirror', async () => {
      const r = await c.ts.kubectl(['logs', mirrorName]);
      return r.code === 0 && r.stdout.includes('static hello') ? r.stdout : undefined;
    }, 15_000);
    assert.match(logs, /static hello/);
    assert.match((await c.exec(mirrorName, ['cat', '/proc/1/cmdline'])).stdout, /sleep/);
    assert.equal(await runningSandboxes(), 1, 'the mirror pod is not run a second time');
  });

  test('a deleted mirror pod comes back and the static pod keeps running', async () => {
    const before = (await getMirror())!;
    const cid = before.status!.containerStatuses![0]!.containerID;
    const r = await c.ts.kubectl(['delete', 'pod', mirrorName, '--wait=false']);
    assert.equal(r.code, 0, r.stderr);
    const again = await waitFor('a new mirror pod', async () => {
      const m = await getMirror();
      return m && m.metadata!.uid !== before.metadata!.uid && !m.metadata!.deletionTimestamp && m.status?.phase === 'Running' ? m : undefined;
    }, 30_000);
    assert.equal(again.status!.containerStatuses![0]!.containerID, cid);
    assert.equal(again.status!.containerStatuses![0]!.restartCount, 0);
  });

  test('the static pod keeps running, and restarts, while the API server is unreachable', async () => {
    const m = (await getMirror())!;
    const id = m.status!.containerStatuses![0]!.containerID!.replace(/^containerd:\/\//, '');
    const rule = ['INPUT', '-p', 'tcp', '-d', '127.0.0.1', '--dport', String(c.ts.port), '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    execFileSync('iptables', ['-I', ...rule]);
    try {
      const probe = await c.ts.request('GET', '/api/v1/namespaces').then(() => 'reached', () => 'unreachable');
      assert.equal(probe, 'unreachable');
      await c.agent.cri.stopContainer(id, 0);
      const restarted = await waitFor('the container restarted by the kubelet alone', async () => {
        const list = await c.agent.cri.listContainers({ labelSelector: { [POD_NAME_LABEL]: mirrorName } });
        return list.find((x) => x.id !== id && x.state === 'CONTAINER_RUNNING');
      }, 30_000);
      assert.ok(restarted);
    } finally {
      execFileSync('iptables', ['-D', ...rule]);
    }
    const after = await waitFor('the mirror status catching up', async () => {
      const got = await getMirror();
      const s = got?.status?.containerStatuses?.[0];
      return s && s.restartCount >= 1 && s.state?.running ? got : undefined;
    }, 60_000);
    assert.equal(after.status?.phase, 'Running');
  });

  test('a changed file replaces the pod and its mirror; a removed file removes both', async () => {
    const old = (await getMirror())!;
    writeFileSync(join(dir, 'web.yaml'), manifest('web', 'echo second version; sleep 3600'));
    const replaced = await waitFor('the mirror of the new version Running', async () => {
      const m = await getMirror();
      const hash = m?.metadata?.annotations?.['kubernetes.io/config.mirror'];
      return m && hash !== old.metadata!.annotations!['kubernetes.io/config.mirror'] && m.status?.phase === 'Running' && m.status.containerStatuses?.[0]?.ready ? m : undefined;
    }, 60_000);
    assert.match(replaced.spec!.containers[0]!.command!.join(' '), /second version/);
    await waitFor('one sandbox left', async () => (await runningSandboxes()) === 1, 30_000);

    unlinkSync(join(dir, 'web.yaml'));
    await waitFor('the mirror pod gone', async () => (await getMirror()) === undefined, 30_000);
    await waitFor('the static pod stopped', async () => (await runningSandboxes()) === 0, 30_000);
  });
});
