// End to end (root): the real kubectl and client-node, through the API server and the kubelet's
// HTTPS API, to containerd's CRI streaming server and a running busybox pod: logs (tail, timestamps,
// limit-bytes, follow, errors from the pod's status), exec (exit codes, stdin, TTY), cp both ways,
// port-forward to busybox httpd, client-node's WebSocket exec and port-forward, and nodes/proxy.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { startTestServer, type TestServer } from '../../src/testing/test_server.ts';
import { ensureClusterPki, issueCertificate } from '../../src/base/pki.ts';
import { resourceFor } from '../../src/api/resource_table.ts';
import { nodeKubeletDialer } from '../../src/apiserver/handlers/pod_proxy.ts';
import { Containerd } from '../../src/agent/containerd.ts';
import { writeBridgeNetwork } from '../../src/agent/cni.ts';
import { importImage } from '../../src/agent/images.ts';
import { buildBusyboxImage, TEST_IMAGE } from '../../src/agent/busybox_image.ts';
import { CriClient } from '../../src/kubelet/cri/client.ts';
import type { PodSandboxConfig } from '../../src/kubelet/cri/messages.ts';
import { KubeletServer, APISERVER_KUBELET_CLIENT } from '../../src/kubelet/server/server.ts';
import { CriPodLocator } from '../../src/kubelet/server/cri_pod_locator.ts';
import { linkExists, pickTestNetwork, processesUnder } from '../../src/testing/e2e_cluster.ts';

const NS = 'default';
const POD = 'web';
const POD_UID = 'b7c0c0de-0000-4000-8000-000000000001';




async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 50));
  }
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(Buffer.from(chunk)); cb(); } }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

describe('kubelet streaming through the API server (root, real containerd)', { timeout: 150_000 }, () => {
  const dataDir = mkdtempSync('/tmp/tkube-ks-');
  const net = pickTestNetwork(89, 'tks');
  const cd = new Containerd({ dataDir, restartDelayMs: 100, readyTimeoutMs: 30_000 });
  const hostRunDirExisted = existsSync('/run/containerd');
  let cri: CriClient;
  let ts: TestServer;
  let kubelet: KubeletServer;
  let sandboxId = '';
  const work = join(dataDir, 'work');

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests run containers and need root');
    mkdirSync(work);
    writeBridgeNetwork(cd.paths, { podCIDR: net.subnet, bridge: net.bridge, ipMasq: false });
    await cd.start();
    cri = new CriClient(cd.endpoint, { timeoutMs: 30_000 });
    const image = join(dataDir, 'busybox.oci.tar');
    writeFileSync(image, buildBusyboxImage().tar);
    await importImage(image, { socket: cd.paths.socket });

    // the pod, as the runtime runs it
    const logDirectory = join(dataDir, 'pods', POD_UID);
    mkdirSync(logDirectory, { recursive: true });
    const config: PodSandboxConfig = {
      metadata: { name: POD, uid: POD_UID, namespace: NS }, hostname: POD, logDirectory,
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    };
    sandboxId = await cri.runPodSandbox(config);
    const run = async (name: string, script: string): Promise<string> => {
      const id = await cri.createContainer(sandboxId, {
        metadata: { name }, image: { image: TEST_IMAGE }, command: ['sh', '-c', script], logPath: `${name}/0.log`,
      }, config);
      await cri.startContainer(id);
      return id;
    };
    await run('c', 'echo err1 >&2; sleep 0.3; echo line1; echo line2; mkdir -p /www; echo hello-from-httpd > /www/index.html; exec httpd -f -p 8080 -h /www');
    await run('ticker', 'sleep 1; for i in 1 2 3 4 5; do echo tick $i; sleep 0.2; done');
    await run('talker', 'i=0; while true; do i=$((i+1)); echo hello $i; sleep 0.2; done');

    // the API server and the kubelet, sharing the cluster CA
    ts = await startTestServer();
    const pki = await ensureClusterPki({ dir: join(ts.dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
    const serving = await issueCertificate({ ca: pki.ca, commonName: 'n1', ips: ['127.0.0.1'], dnsNames: ['n1'], usages: 'server', days: 1 });
    const client = await issueCertificate({ ca: pki.ca, commonName: APISERVER_KUBELET_CLIENT, organizations: ['system:masters'], usages: 'client', days: 1 });
    kubelet = new KubeletServer({
      runtime: cri, locator: new CriPodLocator(cri), port: 0, bindAddress: '127.0.0.1',
      tls: { certPem: serving.certPem, keyPem: serving.keyPem, clientCaPem: pki.ca.certPem },
    });
    await kubelet.start();
    const nodes = resourceFor('', 'v1', 'nodes')!;
    ts.api.kubeletDialer = nodeKubeletDialer((n) => ts.api.storeFor(nodes).get('', n),
      { certPem: client.certPem, keyPem: client.keyPem, caPem: pki.ca.certPem });

    const node = {
      apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'n1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } },
    };
    assert.equal((await ts.request('POST', '/api/v1/nodes', { body: JSON.stringify(node) })).status, 201);
    const containers = [{ name: 'c', image: TEST_IMAGE }, { name: 'ticker', image: TEST_IMAGE }, { name: 'talker', image: TEST_IMAGE }];
    const running = (name: string): Record<string, unknown> => ({
      name, image: TEST_IMAGE, imageID: '', ready: true, restartCount: 0, started: true, containerID: `containerd://${name}`,
      state: { running: { startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } },
    });
    await createPod(POD, containers, { phase: 'Running', containerStatuses: [running('c'), running('ticker'), running('talker')] });
    await createPod('pending', [{ name: 'c', image: TEST_IMAGE }], {
      phase: 'Pending', containerStatuses: [{ name: 'c', image: TEST_IMAGE, imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
    });
    await waitFor('the first log lines', () => readFileSync(join(logDirectory, 'c/0.log'), 'utf8').includes('line2'));
  });

  async function createPod(name: string, containers: object[], status: object): Promise<void> {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { nodeName: 'n1', containers } };
    const created = await ts.request('POST', `/api/v1/namespaces/${NS}/pods`, { body: JSON.stringify(pod) });
    assert.equal(created.status, 201, created.body);
    const patched = await ts.request('PATCH', `/api/v1/namespaces/${NS}/pods/${name}/status`, {
      body: JSON.stringify({ status }), headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    assert.equal(patched.status, 200, patched.body);
  }

  after(async () => {
    await kubelet?.dispose();
    await ts?.stop();
    try {
      for (const s of await cri.listPodSandbox()) {
        await cri.stopPodSandbox(s.id);
        await cri.removePodSandbox(s.id);
      }
    } catch { /* best effort; the kill below is the safety net */ }
    cri?.close();
    await cd.stop();
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
  });

  test('kubectl logs: all, --tail, --timestamps, --limit-bytes', async () => {
    const all = await ts.kubectl(['logs', POD, '-c', 'c']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(all.stdout.split('\n').filter((l) => l).sort(), ['err1', 'line1', 'line2']);
    const tail = await ts.kubectl(['logs', POD, '-c', 'c', '--tail=1']);
    assert.equal(tail.stdout, 'line2\n');
    const stamped = await ts.kubectl(['logs', POD, '-c', 'c', '--tail=2', '--timestamps']);
    assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line1\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line2\n$/);
    const limited = await ts.kubectl(['logs', POD, '-c', 'c', '--tail=2', '--limit-bytes=3']);
    assert.equal(limited.stdout, 'lin');
  });

  test('kubectl logs -f follows until the container exits', async () => {
    const t0 = Date.now();
    const r = await ts.kubectl(['logs', '-f', POD, '-c', 'ticker'], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
    assert.ok(Date.now() - t0 < 15_000);
  });

  test('logs errors come from the pod status and the request', async () => {
    const waiting = await ts.kubectl(['logs', 'pending']);
    assert.equal(waiting.code, 1);
    assert.match(waiting.stderr, /Error from server \(BadRequest\): container "c" in pod "pending" is waiting to start: ContainerCreating/);
    const prev = await ts.kubectl(['logs', POD, '-c', 'c', '--previous']);
    assert.match(prev.stderr, /previous terminated container "c" in pod "web" not found/);
    const raw = await ts.request('GET', `/api/v1/namespaces/${NS}/pods/${POD}/log`);
    assert.equal(raw.status, 400);
    assert.match(raw.json<{ message: string }>().message, /^a container name must be specified for pod web, choose one of: \[c ticker talker\]$/);
    const bad = await ts.request('GET', `/api/v1/namespaces/${NS}/pods/${POD}/log?container=c&tailLines=-1`);
    assert.equal(bad.status, 422);
    assert.equal(bad.json<{ message: string }>().message, 'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
    const text = await ts.request('GET', `/api/v1/namespaces/${NS}/pods/${POD}/log?container=c&tailLines=1`, { headers: { Accept: 'text/plain' } });
    assert.equal(text.status, 200);
    assert.equal(text.headers['content-type'], 'text/plain');
    assert.equal(text.body, 'line2\n');
  });

  test('kubectl exec: output, exit codes, stdin, a terminal', async () => {
    const hi = await ts.kubectl(['exec', POD, '-c', 'c', '--', 'echo', 'hi']);
    assert.deepEqual([hi.code, hi.stdout], [0, 'hi\n'], hi.stderr);
    const three = await ts.kubectl(['exec', POD, '-c', 'c', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(three.code, 3);
    assert.equal(three.stdout, 'out\n');
    assert.match(three.stderr, /^err\ncommand terminated with exit code 3\n$/);
    const cat = await ts.kubectl(['exec', '-i', POD, '-c', 'c', '--', 'sh', '-c', 'cat; echo done'], { input: 'from stdin\n' });
    assert.equal(cat.stdout, 'from stdin\ndone\n', cat.stderr);
    const missing = await ts.kubectl(['exec', POD, '-c', 'nope', '--', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /container nope is not valid for pod web|container not found/);

    const cacheDir = join(ts.dir, 'kubectl-cache');
    const cmd = `kubectl --kubeconfig ${ts.kubeconfig} --cache-dir ${cacheDir} exec -it ${POD} -c c -- sh -c 'tty; stty size; echo tty-ok'`;
    const tty = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, HOME: ts.dir }, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
    assert.equal(tty.code, 0, tty.out);
    assert.match(tty.out, /\/dev\/pts\/\d+/);
    assert.match(tty.out, /tty-ok/);
  });

  test('kubectl attach streams a running container\'s output', async () => {
    const child = spawn('kubectl', ['--kubeconfig', ts.kubeconfig, '--cache-dir', join(ts.dir, 'kubectl-cache'), 'attach', POD, '-c', 'talker'], {
      env: { ...process.env, HOME: ts.dir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const lines = await waitFor('two attached lines', () => {
        const got = out.split('\n').filter((l) => /^hello \d+$/.test(l));
        return got.length >= 2 ? got : undefined;
      });
      assert.equal(Number(lines[1]!.split(' ')[1]), Number(lines[0]!.split(' ')[1]) + 1, out);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  test('kubectl cp copies into the pod and back out', async () => {
    const src = join(work, 'in.txt');
    writeFileSync(src, 'payload ' + 'x'.repeat(100_000) + '\n');
    const up = await ts.kubectl(['cp', src, `${NS}/${POD}:/tmp/in.txt`, '-c', 'c']);
    assert.equal(up.code, 0, up.stderr);
    const check = await ts.kubectl(['exec', POD, '-c', 'c', '--', 'wc', '-c', '/tmp/in.txt']);
    assert.match(check.stdout, /^\s*100009 \/tmp\/in.txt/);
    const dst = join(work, 'out.txt');
    const down = await ts.kubectl(['cp', `${NS}/${POD}:/tmp/in.txt`, dst, '-c', 'c']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(readFileSync(dst, 'utf8'), readFileSync(src, 'utf8'));
  });

  test('kubectl port-forward reaches busybox httpd', async () => {
    const child = spawn('kubectl', ['--kubeconfig', ts.kubeconfig, '--cache-dir', join(ts.dir, 'kubectl-cache'), 'port-forward', '-v=4', `pod/${POD}`, ':8080'], {
      env: { ...process.env, HOME: ts.dir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const port = await waitFor('port-forward to listen', () => {
        const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out);
        return m ? Number(m[1]) : undefined;
      });
      assert.equal(await httpGet(port), 'hello-from-httpd\n');
      assert.equal(await httpGet(port), 'hello-from-httpd\n', 'a second connection over the same tunnel');
      // kubectl's first choice, SPDY tunneled in a WebSocket, was taken: no fallback to plain SPDY
      assert.match(out, /negotiated protocol: portforward\.k8s\.io/);
      assert.doesNotMatch(out, /fallback/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  test('client-node: WebSocket exec (v4) and port-forward with the port prefix', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(ts.kubeconfig);
    const out = collector();
    const err = collector();
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      new k8s.Exec(kc).exec(NS, POD, 'c', ['sh', '-c', 'echo out; echo err >&2; exit 2'], out.stream, err.stream, null, false, resolve).catch(reject);
    });
    assert.equal(status.status, 'Failure');
    assert.equal(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message, '2');
    assert.equal(out.text(), 'out\n');
    assert.equal(err.text(), 'err\n');

    const data = collector();
    const errs = collector();
    const input = new PassThrough();
    const ws = await new k8s.PortForward(kc).portForward(NS, POD, [8080], data.stream, errs.stream, input) as { close(): void };
    input.write('GET / HTTP/1.0\r\n\r\n');
    await waitFor('the forwarded response', () => data.text().includes('hello-from-httpd'));
    assert.match(data.text(), /^HTTP\/1\.[01] 200 OK\r\n/);
    assert.equal(errs.text(), '');
    ws.close();
  });

  test('nodes/proxy reaches the kubelet; the kubelet refuses strangers', async () => {
    const health = await ts.kubectl(['get', '--raw', '/api/v1/nodes/n1/proxy/healthz']);
    assert.deepEqual([health.code, health.stdout], [0, 'ok'], health.stderr);
    const direct = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: kubelet.port, path: '/healthz', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(-1));
      req.on('timeout', () => reject(new Error('timeout')));
      req.end();
    });
    assert.notEqual(direct, 200, 'plain HTTP is not served');
  });
});
