// End to end (root): ephemeral containers through `kubectl debug`: the API's pods/ephemeralcontainers
// subresource takes the new container, the kubelet starts it once (sharing the target container's
// process namespace), reports it in ephemeralContainerStatuses, serves its logs, and `kubectl debug
// -it` attaches to it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ContainerStatus, Pod } from '../../src/api/types/core_v1.ts';
import { POD_NAME_LABEL, CONTAINER_NAME_LABEL } from '../../src/kubelet/labels.ts';
import { startE2ECluster, waitFor, TEST_IMAGE, type E2ECluster } from '../../src/testing/e2e_cluster.ts';

describe('kubectl debug (root)', { timeout: 180_000 }, () => {
  let c: E2ECluster;
  before(async () => {
    c = await startE2ECluster({ controllers: false, scheduler: false });
    await c.apply(JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'target' },
      spec: { nodeName: c.nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
    }));
    await c.waitRunning('target');
  });
  after(async () => { await c?.stop(); });

  const ephemeralStatus = async (name: string): Promise<ContainerStatus | undefined> =>
    (await c.getPod('target')).status?.ephemeralContainerStatuses?.find((s) => s.name === name);

  test('kubectl debug adds an ephemeral container that runs once in the target\'s process namespace', async () => {
    const r = await c.ts.kubectl(['debug', 'target', `--image=${TEST_IMAGE}`, '--image-pull-policy=IfNotPresent', '--profile=general', '-c', 'dbg', '--target=app',
      '--', 'sh', '-c', 'echo hi from debug; ps']);
    assert.equal(r.code, 0, r.stderr);
    const pod: Pod = await c.getPod('target');
    const ec = pod.spec?.ephemeralContainers?.find((e) => e.name === 'dbg');
    assert.equal(ec?.targetContainerName, 'app');
    assert.equal(ec?.terminationMessagePath, '/dev/termination-log', 'defaults applied');
    const s = await waitFor('dbg terminated', async () => {
      const st = await ephemeralStatus('dbg');
      return st?.state?.terminated ? st : undefined;
    }, 30_000);
    assert.equal(s.state!.terminated!.exitCode, 0);
    assert.equal(s.restartCount, 0);
    assert.equal(s.ready, false);
    const logs = await c.ts.kubectl(['logs', 'target', '-c', 'dbg']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /hi from debug/);
    assert.match(logs.stdout, /sleep 3600/, 'the debugger sees the target container\'s processes');
    // the regular container is untouched
    const app = (await c.getPod('target')).status!.containerStatuses![0]!;
    assert.equal(app.restartCount, 0);
    assert.ok(app.state?.running);
  });

  test('an ephemeral container is never restarted, and may not be changed or removed', async () => {
    // the sync that reported it terminated (restartPolicy Always) would have started it again
    const list = await c.agent.cri.listContainers({ labelSelector: { [POD_NAME_LABEL]: 'target', [CONTAINER_NAME_LABEL]: 'dbg' } });
    assert.equal(list.length, 1);
    assert.equal(list[0]!.state, 'CONTAINER_EXITED');

    const pod = await c.getPod('target');
    const patch = JSON.stringify({ spec: { ephemeralContainers: pod.spec!.ephemeralContainers!.map((e) => ({ ...e, image: 'busybox:other' })) } });
    const r = await c.ts.request('PATCH', '/api/v1/namespaces/default/pods/target/ephemeralcontainers', { body: patch, headers: { 'content-type': 'application/merge-patch+json' } });
    assert.equal(r.status, 422, r.body);
    assert.match(r.body, /existing ephemeral containers \\"dbg\\" may not be changed/);
    const other = await c.ts.request('PATCH', '/api/v1/namespaces/default/pods/target/ephemeralcontainers', { body: JSON.stringify({ metadata: { labels: { sneaky: 'yes' } } }), headers: { 'content-type': 'application/merge-patch+json' } });
    assert.equal(other.status, 200, other.body);
    assert.equal((await c.getPod('target')).metadata?.labels?.['sneaky'], undefined, 'only ephemeral containers change through the subresource');
  });

  test('kubectl debug -it attaches to the new container', async () => {
    // a person at the terminal: type a command, read its answer, then leave
    const child = spawn('kubectl', ['--kubeconfig', c.ts.kubeconfig, 'debug', '-it', 'target', `--image=${TEST_IMAGE}`, '--image-pull-policy=IfNotPresent', '--profile=general', '-c', 'shell', '--', 'sh'],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      child.stdin.write('echo attached-$((6*7))\n');
      await waitFor('the answer through the attached stream', () => /attached-42/.test(out), 60_000).catch((e: unknown) => {
        throw new Error(`${String(e)}; stdout ${JSON.stringify(out)} stderr ${JSON.stringify(err)}`);
      });
      child.stdin.end('exit\n');
      assert.equal(await exited, 0, err);
    } finally {
      if (child.exitCode === null) child.kill();
    }
    const s = await waitFor('shell exited', async () => {
      const st = await ephemeralStatus('shell');
      return st?.state?.terminated ? st : undefined;
    }, 30_000);
    assert.equal(s.state!.terminated!.exitCode, 0);
    const spec = (await c.getPod('target')).spec!.ephemeralContainers!.find((e) => e.name === 'shell')!;
    assert.equal(spec.stdin, true);
    assert.equal(spec.tty, true);
  });
});
