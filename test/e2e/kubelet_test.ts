// End to end (root): an in-process API server, a node agent (containerd, kubelet, kubelet API) on a
// bridge of its own, and the real kubectl: node registration, pods reaching Running, logs, crash
// loops, missing images, graceful deletion, restarts after outside kills and agent restarts, pod IPs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Event, Node, Pod } from '../../src/api/types/core_v1.ts';
import { startTestServer, type TestServer } from '../../src/testing/test_server.ts';
import { ensureClusterPki, issueCertificate, type ClusterPki } from '../../src/base/pki.ts';
import { resourceFor } from '../../src/api/resource_table.ts';
import { nodeKubeletDialer } from '../../src/apiserver/handlers/pod_proxy.ts';
import { startAgent, type Agent, type AgentOptions } from '../../src/agent/agent.ts';
import { importImage } from '../../src/agent/images.ts';
import { buildBusyboxImage, TEST_IMAGE } from '../../src/agent/busybox_image.ts';
import { APISERVER_KUBELET_CLIENT } from '../../src/kubelet/server/server.ts';
import { KUBELET_VERSION } from '../../src/kubelet/kubelet.ts';
import { linkExists, pickTestNetwork, processesUnder } from '../../src/testing/e2e_cluster.ts';

const NODE = `kt-${process.pid}`;




async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('kubelet: real pods through containerd (root)', { timeout: 400_000 }, () => {
  const dataDir = mkdtempSync('/tmp/tkube-kl-');
  const net = pickTestNetwork(88, 'tkk');
  const hostRunDirExisted = existsSync('/run/containerd');
  const iptablesBefore = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(':') || l.startsWith('-A')).map((l) => l.replace(/\[\d+:\d+\]/, ''));
  let ts: TestServer;
  let pki: ClusterPki;
  let agent: Agent;

  function agentOptions(): AgentOptions {
    return {
      dataDir, nodeName: NODE, nodeIP: '127.0.0.1', kubeconfig: ts.kubeconfig, clusterCa: pki.ca,
      kubeletPort: 0, kubeletBindAddress: '127.0.0.1', podCIDR: net.subnet, bridge: net.bridge, ipMasq: false,
      enableIpForward: false, nodeLabels: { 'tkube.test/e2e': 'yes' }, nodeTaints: [],
      containerd: { restartDelayMs: 100 },
    };
  }

  async function getPod(name: string): Promise<Pod> {
    const r = await ts.request('GET', `/api/v1/namespaces/default/pods/${name}`);
    assert.equal(r.status, 200, r.body);
    return r.json<Pod>();
  }

  async function events(name: string): Promise<Event[]> {
    const r = await ts.request('GET', `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D${name}`);
    return r.json<{ items: Event[] }>().items;
  }

  async function run(name: string, script: string, extra: string[] = [], spec: Record<string, unknown> = {}): Promise<void> {
    const overrides = JSON.stringify({ spec: { nodeName: NODE, terminationGracePeriodSeconds: 30, ...spec } });
    const r = await ts.kubectl(['run', name, `--image=${TEST_IMAGE}`, '--image-pull-policy=IfNotPresent', `--overrides=${overrides}`, ...extra, '--command', '--', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
  }

  async function waitRunning(name: string, timeoutMs = 30_000): Promise<Pod> {
    return waitFor(`pod ${name} Running and ready`, async () => {
      const p = await getPod(name);
      return p.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.ready) ? p : undefined;
    }, timeoutMs);
  }

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests run containers and need root');
    ts = await startTestServer();
    pki = await ensureClusterPki({ dir: join(ts.dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
    const client = await issueCertificate({ ca: pki.ca, commonName: APISERVER_KUBELET_CLIENT, organizations: ['system:masters'], usages: 'client', days: 1 });
    const nodes = resourceFor('', 'v1', 'nodes')!;
    ts.api.kubeletDialer = nodeKubeletDialer((n) => ts.api.storeFor(nodes).get('', n), { certPem: client.certPem, keyPem: client.keyPem, caPem: pki.ca.certPem });
    agent = await startAgent(agentOptions());
    const image = join(dataDir, 'busybox.oci.tar');
    writeFileSync(image, buildBusyboxImage().tar);
    await importImage(image, { socket: agent.containerd.paths.socket });
    rmSync(image);
  });

  after(async () => {
    try {
      if (agent) {
        // stop the kubelet first, or it would recreate what we remove
        await agent.kubelet.dispose();
        for (const s of await agent.cri.listPodSandbox()) {
          await agent.cri.stopPodSandbox(s.id).catch(() => undefined);
          await agent.cri.removePodSandbox(s.id).catch(() => undefined);
        }
      }
    } catch { /* best effort; the kill below is the safety net */ }
    await agent?.dispose();
    await ts?.stop();
    for (const pid of processesUnder(dataDir)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dataDir + '/')).reverse()) {
      try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* gone */ }
    }
    if (linkExists(net.bridge)) execFileSync('ip', ['link', 'del', net.bridge]);
    rmSync(dataDir, { recursive: true, force: true });
    if (!hostRunDirExisted) {
      for (const d of ['/run/containerd/s', '/run/containerd']) {
        try { execFileSync('rmdir', [d], { stdio: 'ignore' }); } catch { /* not empty, or not there */ }
      }
    }
    const now = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(':') || l.startsWith('-A')).map((l) => l.replace(/\[\d+:\d+\]/, ''));
    // Other e2e files running beside this one (networking) keep their chains under E2E<x>… names.
    const added = now.filter((l) => !iptablesBefore.includes(l) && !/\bE2E[0-9a-z]{2}/.test(l));
    assert.deepEqual(added, [], 'iptables rules left behind');
  });

  test('the node registers with capacity, addresses, nodeInfo, conditions and a Lease', async () => {
    const node = await waitFor('node Ready', async () => {
      const r = await ts.request('GET', `/api/v1/nodes/${NODE}`);
      const n = r.json<Node>();
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    });
    const cond = Object.fromEntries((node.status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
    assert.deepEqual(cond, {
      MemoryPressure: 'False/KubeletHasSufficientMemory', DiskPressure: 'False/KubeletHasNoDiskPressure',
      PIDPressure: 'False/KubeletHasSufficientPID', Ready: 'True/KubeletReady',
    });
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.message, 'kubelet is posting ready status');
    assert.equal(node.status?.capacity?.['pods'], '110');
    assert.match(String(node.status?.capacity?.['cpu']), /^\d+$/);
    assert.match(String(node.status?.capacity?.['memory']), /^\d+Ki$/);
    assert.ok(node.status?.capacity?.['ephemeral-storage']);
    assert.ok(node.status?.allocatable?.['memory']);
    assert.deepEqual(node.status?.addresses?.[0], { type: 'InternalIP', address: '127.0.0.1' });
    assert.equal(node.status?.addresses?.[1]?.type, 'Hostname');
    assert.equal(node.status?.nodeInfo?.kubeletVersion, KUBELET_VERSION);
    assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\/1\./);
    assert.equal(node.status?.nodeInfo?.operatingSystem, 'linux');
    assert.ok(node.status?.nodeInfo?.osImage);
    assert.equal(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, agent.kubeletPort);
    assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], NODE);
    assert.equal(node.metadata?.labels?.['tkube.test/e2e'], 'yes');
    const lease = await ts.request('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE}`);
    assert.equal(lease.status, 200, lease.body);
    assert.equal(lease.json<{ spec: { holderIdentity: string } }>().spec.holderIdentity, NODE);
    const cordon = await ts.kubectl(['cordon', NODE]);
    assert.equal(cordon.code, 0, cordon.stderr);
    const uncordon = await ts.kubectl(['uncordon', NODE]);
    assert.equal(uncordon.code, 0, uncordon.stderr);
  });

  test('kubectl run: a busybox pod reaches Running with its IP, and kubectl logs shows its output', async () => {
    await run('web', 'echo hello from web; mkdir -p /www; echo web-page > /www/index.html; exec httpd -f -p 8080 -h /www');
    const pod = await waitRunning('web');
    assert.match(pod.status?.podIP ?? '', new RegExp(`^${net.subnet.split('.').slice(0, 3).join('\\.')}\\.`));
    assert.deepEqual(pod.status?.podIPs, [{ ip: pod.status?.podIP }]);
    assert.equal(pod.status?.hostIP, '127.0.0.1');
    assert.ok(pod.status?.startTime);
    assert.equal(pod.status?.qosClass, 'BestEffort');
    const cs = pod.status!.containerStatuses![0]!;
    assert.equal(cs.name, 'web');
    assert.match(cs.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
    assert.equal(cs.restartCount, 0);
    assert.equal(cs.started, true);
    assert.ok(cs.state?.running?.startedAt);
    assert.equal(cs.image, TEST_IMAGE);
    assert.ok(cs.imageID);
    const conds = Object.fromEntries((pod.status?.conditions ?? []).map((c) => [c.type, c.status]));
    assert.deepEqual(conds, { PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });
    const logs = await waitFor('logs', async () => {
      const r = await ts.kubectl(['logs', 'web']);
      return r.code === 0 && r.stdout.includes('hello') ? r.stdout : undefined;
    });
    assert.equal(logs, 'hello from web\n');
    const ev = await waitFor('Started event', async () => {
      const e = await events('web');
      return e.some((x) => x.reason === 'Started') ? e : undefined;
    });
    const msgs = ev.map((e) => `${e.reason}: ${e.message}`);
    assert.ok(msgs.includes(`Pulled: Container image "${TEST_IMAGE}" already present on machine`), msgs.join('\n'));
    assert.ok(msgs.includes('Created: Created container web'), msgs.join('\n'));
    assert.ok(msgs.includes('Started: Started container web'), msgs.join('\n'));
    assert.equal(ev.find((e) => e.reason === 'Started')?.involvedObject.fieldPath, 'spec.containers{web}');
    assert.equal(ev.find((e) => e.reason === 'Started')?.source?.component, 'kubelet');
    const get = await ts.kubectl(['get', 'pod', 'web', '-o', 'wide']);
    assert.match(get.stdout, new RegExp(`web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${pod.status?.podIP?.replaceAll('.', '\\.')}\\s+${NODE}`));
  });

  test('two pods on the bridge reach each other by pod IP', async () => {
    const server = await waitRunning('web');
    const ip = server.status!.podIP!;
    await run('client', `timeout 10 wget -qO- http://${ip}:8080/`, ['--restart=Never']);
    const done = await waitFor('client Succeeded', async () => {
      const p = await getPod('client');
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    });
    const logs = await ts.kubectl(['logs', 'client']);
    assert.equal(done.status?.phase, 'Succeeded', logs.stdout + logs.stderr);
    assert.equal(logs.stdout, 'web-page\n');
    const cs = done.status!.containerStatuses![0]!;
    assert.equal(cs.state?.terminated?.exitCode, 0);
    assert.equal(cs.state?.terminated?.reason, 'Completed');
    assert.equal(cs.ready, false);
    const ready = done.status?.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'PodCompleted']);
  });

  test('a crash loop shows CrashLoopBackOff with a growing restartCount', async () => {
    await run('crash', 'echo crashing; exit 3');
    const pod = await waitFor('CrashLoopBackOff with 2 restarts', async () => {
      const p = await getPod('crash');
      const cs = p.status?.containerStatuses?.[0];
      return cs?.state?.waiting?.reason === 'CrashLoopBackOff' && cs.restartCount >= 2 ? p : undefined;
    }, 90_000);
    const cs = pod.status!.containerStatuses![0]!;
    assert.match(cs.state?.waiting?.message ?? '', /^back-off (10|20|40)s restarting failed container=crash pod=crash_default\(/);
    assert.equal(cs.lastState?.terminated?.exitCode, 3);
    assert.equal(cs.lastState?.terminated?.reason, 'Error');
    assert.equal(pod.status?.phase, 'Running');
    const prev = await ts.kubectl(['logs', 'crash', '--previous']);
    assert.equal(prev.stdout, 'crashing\n', prev.stderr);
    const get = await ts.kubectl(['get', 'pod', 'crash']);
    assert.match(get.stdout, /crash\s+0\/1\s+(CrashLoopBackOff|Error|Completed)\s+\d+/);
    const ev = await events('crash');
    assert.ok(ev.some((e) => e.reason === 'BackOff' && /^Back-off restarting failed container crash in pod crash_default\(/.test(e.message ?? '')), ev.map((e) => e.message).join('\n'));
    const r = await ts.kubectl(['delete', 'pod', 'crash', '--wait=true', '--timeout=40s']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('a missing image under pull policy Never waits with ErrImageNeverPull', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'missing' }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'tkube.local/nope:1', imagePullPolicy: 'Never' }] } };
    const r = await ts.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    assert.equal(r.code, 0, r.stderr);
    const p = await waitFor('ErrImageNeverPull', async () => {
      const got = await getPod('missing');
      return got.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull' ? got : undefined;
    });
    assert.equal(p.status?.containerStatuses?.[0]?.state?.waiting?.message, 'Container image "tkube.local/nope:1" is not present with pull policy of Never');
    assert.equal(p.status?.phase, 'Pending');
    const ev = await waitFor('ErrImageNeverPull event', async () => {
      const e = await events('missing');
      return e.some((x) => x.reason === 'ErrImageNeverPull') ? e : undefined;
    });
    assert.equal(ev.find((e) => e.reason === 'ErrImageNeverPull')?.type, 'Warning');
    const get = await ts.kubectl(['get', 'pod', 'missing']);
    assert.match(get.stdout, /missing\s+0\/1\s+ErrImageNeverPull\s+0/);
    const d = await ts.kubectl(['delete', 'pod', 'missing', '--timeout=30s']);
    assert.equal(d.code, 0, d.stderr);
  });

  test('graceful delete: the container gets SIGTERM, its trap runs, then the pod object goes', async () => {
    await run('graceful', 'trap "echo bye; exit 0" TERM; echo started; while :; do sleep 1; done');
    await waitRunning('graceful');
    await waitFor('first output', async () => (await ts.kubectl(['logs', 'graceful'])).stdout.includes('started'));
    const cacheDir = join(ts.dir, 'kubectl-cache');
    const follow = spawn('kubectl', ['--kubeconfig', ts.kubeconfig, '--cache-dir', cacheDir, 'logs', '-f', 'graceful'], { env: { ...process.env, HOME: ts.dir } });
    let followed = '';
    follow.stdout.on('data', (c: Buffer) => (followed += c.toString()));
    const followDone = new Promise<void>((resolve) => follow.on('exit', () => resolve()));
    const killer = setTimeout(() => follow.kill('SIGKILL'), 40_000);
    await waitFor('kubectl logs -f attached', () => followed.includes('started'));
    const t0 = Date.now();
    const del = await ts.kubectl(['delete', 'pod', 'graceful', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(del.code, 0, del.stderr);
    const took = Date.now() - t0;
    await followDone;
    clearTimeout(killer);
    assert.equal(followed, 'started\nbye\n');
    assert.ok(took < 25_000, `deletion took ${took} ms: the trap should end the container long before the 30 s grace period`);
    const gone = await ts.request('GET', '/api/v1/namespaces/default/pods/graceful');
    assert.equal(gone.status, 404);
    const ev = await events('graceful');
    assert.ok(ev.some((e) => e.reason === 'Killing' && e.message === 'Stopping container graceful'), ev.map((e) => `${e.reason}: ${e.message}`).join('\n'));
    await waitFor('the sandbox removed', async () => {
      const sbs = await agent.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.name': 'graceful' } });
      return sbs.length === 0;
    });
  });

  test('a container killed from outside is restarted', async () => {
    const before = await waitRunning('web');
    const oldId = before.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
    await agent.cri.stopContainer(oldId, 0);
    const after = await waitFor('web restarted', async () => {
      const p = await getPod('web');
      const cs = p.status?.containerStatuses?.[0];
      return cs?.restartCount === 1 && cs.state?.running && p.status?.phase === 'Running' && cs.ready ? p : undefined;
    });
    const cs = after.status!.containerStatuses![0]!;
    assert.notEqual(cs.containerID, before.status!.containerStatuses![0]!.containerID);
    assert.equal(cs.lastState?.terminated?.exitCode, 137);
    assert.equal(cs.lastState?.terminated?.containerID, `containerd://${oldId}`);
    assert.equal(after.status?.podIP, before.status?.podIP);
  });

  test('the agent restarts while a pod runs: the pod keeps running, same container, status right', async () => {
    const before = await waitRunning('web');
    const cs0 = before.status!.containerStatuses![0]!;
    // as node IPAM would: the restarted agent takes its pod CIDR from the Node
    const patched = await ts.kubectl(['patch', 'node', NODE, '--type=merge', '-p', JSON.stringify({ spec: { podCIDR: net.subnet, podCIDRs: [net.subnet] } })]);
    assert.equal(patched.code, 0, patched.stderr);
    await agent.dispose();
    agent = undefined as unknown as Agent;
    agent = await startAgent({ ...agentOptions(), podCIDR: undefined, podCIDRWaitMs: 1 });
    assert.equal(agent.podCIDR(), net.subnet);
    assert.match(readFileSync(join(agent.containerd.paths.cniConfDir, '10-tkube.conflist'), 'utf8'), new RegExp(`"subnet": "${net.subnet.replaceAll('.', '\\.')}"`));
    // the kubelet's first sync after the restart writes nothing new: wait for a heartbeat of the status
    await waitFor('the adopted pod re-synced', async () => (await agent.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.name': 'web' } })).length > 0);
    await agent.kubelet.idle();
    const after = await waitRunning('web');
    const cs1 = after.status!.containerStatuses![0]!;
    assert.equal(cs1.containerID, cs0.containerID);
    assert.equal(cs1.restartCount, cs0.restartCount);
    assert.equal(cs1.state?.running?.startedAt, cs0.state?.running?.startedAt);
    assert.equal(after.status?.podIP, before.status?.podIP);
    const running = await agent.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.name': 'web' }, state: { state: 'CONTAINER_RUNNING' } });
    assert.equal(running.length, 1);
    assert.equal(`containerd://${running[0]!.id}`, cs0.containerID);
    const logs = await ts.kubectl(['logs', 'web']);
    assert.equal(logs.code, 0, logs.stderr);
    const sandboxes = await agent.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.name': 'web' } });
    assert.equal(sandboxes.length, 1, 'the sandbox was adopted, not replaced');
    // the new kubelet manages the adopted pod: an outside kill is noticed and repaired
    await agent.cri.stopContainer(running[0]!.id, 0);
    await waitFor('web restarted by the new kubelet', async () => {
      const cs = (await getPod('web')).status?.containerStatuses?.[0];
      return cs?.restartCount === cs0.restartCount + 1 && cs.state?.running !== undefined;
    });
  });

  test('a force-deleted pod\'s containers and sandbox are stopped and removed', async () => {
    await run('forced', 'trap "exit 0" TERM; while :; do sleep 1; done');
    await waitRunning('forced');
    const r = await ts.kubectl(['delete', 'pod', 'forced', '--grace-period=0', '--force']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('the runtime forgot the pod', async () => {
      const [sbs, cs] = await Promise.all([
        agent.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.name': 'forced' } }),
        agent.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.name': 'forced' } }),
      ]);
      return sbs.length === 0 && cs.length === 0;
    });
  });
});
