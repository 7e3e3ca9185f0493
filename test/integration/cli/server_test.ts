// `./tkube server` as a user runs it: a fresh data dir, a kubeconfig for kubectl, the textbook's
// first commands, a clean shutdown on SIGTERM, and everything still there after a restart.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

interface Running { child: ChildProcess; log: () => string; ready: Promise<number> }

function startServer(dataDir: string, port: number, extra: string[] = []): Running {
  const child = spawn(join(root, 'tkube'), ['server', '--data-dir', dataDir, '--https-port', String(port), '--bind-address', '127.0.0.1', '--disable-agent', ...extra], {
    env: { ...process.env, TKUBE_LOG: 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const started = performance.now();
  const ready = new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server not ready in 30 s:\n${out}`)), 30_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('tkube server ready')) { clearTimeout(t); resolve(performance.now() - started); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => { clearTimeout(t); reject(new Error(`server exited with ${code}:\n${out}`)); });
  });
  return { child, log: () => out, ready };
}

function kubectl(kubeconfig: string, cacheDir: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    c.stdin?.end(input);
  });
}

function stop(r: Running): Promise<number | null> {
  return new Promise((resolve) => {
    r.child.once('exit', (code) => resolve(code));
    r.child.kill('SIGTERM');
  });
}

describe('tkube server', () => {
  test('serves kubectl from a fresh data dir, stops cleanly, keeps its data', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tkube-cli-'));
    dirs.push(dataDir);
    const port = await freePort();
    const first = startServer(dataDir, port);
    const ms = await first.ready;
    const kubeconfig = join(dataDir, 'kubeconfig.yaml');
    assert.ok(existsSync(kubeconfig), 'kubeconfig written');
    assert.ok(existsSync(join(dataDir, 'db', 'state.db')), 'sqlite database created');
    const cache = join(dataDir, 'kubectl-cache');
    const nodes = await kubectl(kubeconfig, cache, ['get', 'nodes']);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.equal(nodes.stderr.trim(), 'No resources found');
    assert.equal((await kubectl(kubeconfig, cache, ['create', 'namespace', 'demo'])).stdout.trim(), 'namespace/demo created');
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kubia\n  namespace: demo\nspec:\n  containers:\n  - name: kubia\n    image: luksa/kubia\n    ports:\n    - containerPort: 8080\n';
    assert.equal((await kubectl(kubeconfig, cache, ['apply', '-f', '-'], pod)).stdout.trim(), 'pod/kubia created');
    const wide = await kubectl(kubeconfig, cache, ['get', 'pods', '-n', 'demo', '-o', 'wide']);
    assert.match(wide.stdout, /^kubia\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/m);
    assert.equal(await stop(first), 0, `exit code; log:\n${first.log()}`);
    assert.match(first.log(), /stopped/);

    const second = startServer(dataDir, port);
    await second.ready;
    const again = await kubectl(kubeconfig, cache, ['get', 'pod', 'kubia', '-n', 'demo', '-o', 'jsonpath={.metadata.name}']);
    assert.equal(again.stdout, 'kubia', again.stderr);
    assert.equal(await stop(second), 0);
    // Not a pass/fail criterion (timings never are), but worth seeing in the log.
    console.log(`# tkube server ready in ${ms.toFixed(0)} ms (first start, fresh data dir)`);
  });

  test('schedules and rolls out a Deployment on simulated nodes, with upstream messages', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tkube-cli-'));
    dirs.push(dataDir);
    const r = startServer(dataDir, await freePort(), ['--sim-nodes', '3', '--sim-capacity', 'cpu=4,memory=8Gi,pods=110']);
    await r.ready;
    const kc = join(dataDir, 'kubeconfig.yaml');
    const cache = join(dataDir, 'kubectl-cache');
    assert.equal((await kubectl(kc, cache, ['create', 'deployment', 'web', '--image=nginx', '--replicas=4'])).code, 0);
    const status = await kubectl(kc, cache, ['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /deployment "web" successfully rolled out/);
    const pods = await kubectl(kc, cache, ['get', 'pods', '-o', 'wide', '--no-headers']);
    assert.equal(pods.stdout.trim().split('\n').filter((l) => /\s1\/1\s+Running\s/.test(l) && /\ssim-\d\s/.test(l)).length, 4, pods.stdout);
    // Least privilege: the controller manager is not in system:masters; its controllers act as their own ServiceAccounts.
    const cmCert = new X509Certificate(readFileSync(join(dataDir, 'tls', 'kube-controller-manager.crt')));
    assert.equal(cmCert.subject, 'CN=system:kube-controller-manager');
    const sas = await kubectl(kc, cache, ['get', 'serviceaccounts', '-n', 'kube-system', '-o', 'name']);
    for (const sa of ['deployment-controller', 'replicaset-controller', 'generic-garbage-collector']) assert.match(sas.stdout, new RegExp(`^serviceaccount/${sa}$`, 'm'));
    const canCm = await kubectl(kc, cache, ['auth', 'can-i', 'delete', 'pods', '--as=system:kube-controller-manager', '-n', 'default']);
    assert.equal(canCm.stdout.trim(), 'no');
    await kubectl(kc, cache, ['run', 'big', '--image=nginx', '--overrides={"spec":{"containers":[{"name":"big","image":"nginx","resources":{"requests":{"cpu":"100"}}}]}}']);
    let described = '';
    for (let i = 0; i < 100 && !described.includes('FailedScheduling'); i++) {
      described = (await kubectl(kc, cache, ['describe', 'pod', 'big'])).stdout;
      if (!described.includes('FailedScheduling')) await new Promise((res) => setTimeout(res, 100));
    }
    assert.match(described, /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 3 Insufficient cpu\. preemption: 0\/3 nodes are available: 3 No preemption victims found for incoming pod\./);
    assert.equal(await stop(r), 0);
  });

  test('encrypts Secrets at rest and writes an audit log', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tkube-cli-'));
    dirs.push(dataDir);
    const { writeFile, readFile } = await import('node:fs/promises');
    const enc = join(dataDir, 'encryption.yaml');
    await writeFile(enc, `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: key1\n        secret: ${Buffer.alloc(32, 7).toString('base64')}\n  - identity: {}\n`);
    const policy = join(dataDir, 'audit-policy.yaml');
    await writeFile(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n');
    const auditLog = join(dataDir, 'audit.log');
    const r = startServer(dataDir, await freePort(), ['--encryption-provider-config', enc, '--audit-policy-file', policy, '--audit-log-path', auditLog]);
    await r.ready;
    const kc = join(dataDir, 'kubeconfig.yaml');
    const cache = join(dataDir, 'kubectl-cache');
    assert.equal((await kubectl(kc, cache, ['create', 'secret', 'generic', 'db', '--from-literal=password=hunter2'])).code, 0);
    assert.equal((await kubectl(kc, cache, ['get', 'secret', 'db', '-o', 'jsonpath={.data.password}'])).stdout, Buffer.from('hunter2').toString('base64'));
    assert.equal(await stop(r), 0);
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(dataDir, 'db', 'state.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT value FROM log WHERE name = '/registry/secrets/default/db'").all() as Array<{ value: Buffer }>;
      assert.ok(rows.length > 0, 'the secret is in the log table');
      for (const row of rows) {
        const raw = Buffer.from(row.value);
        assert.ok(raw.subarray(0, 23).toString() === 'k8s:enc:aescbc:v1:key1:', `encrypted at rest: ${raw.subarray(0, 40).toString()}`);
        assert.ok(!raw.includes('hunter2') && !raw.includes(Buffer.from('hunter2').toString('base64')), 'no plaintext at rest');
      }
    } finally {
      db.close();
    }
    const events = (await readFile(auditLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const create = events.find((e) => e.verb === 'create' && e.objectRef?.resource === 'secrets' && e.stage === 'ResponseComplete');
    assert.ok(create, 'the Secret create is audited');
    assert.equal(create.user.username, 'system:admin');
    assert.equal(create.responseStatus.code, 201);
    assert.equal(create.level, 'Metadata');
  });

  test('snapshot save while serving, restore after a stop brings the saved state back', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tkube-cli-'));
    dirs.push(dataDir);
    const port = await freePort();
    const tkube = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
      execFile(join(root, 'tkube'), args, { timeout: 60_000 }, (e, stdout, stderr) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }));
    });
    const first = startServer(dataDir, port);
    await first.ready;
    const kc = join(dataDir, 'kubeconfig.yaml');
    const cache = join(dataDir, 'kubectl-cache');
    assert.equal((await kubectl(kc, cache, ['create', 'configmap', 'keep', '--from-literal=a=1'])).code, 0);
    const saved = await tkube(['snapshot', 'save', '--data-dir', dataDir, '--name', 'before']);
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, /^snapshot saved: .*\/db\/snapshots\/before-[0-9TZ-]+\.db \(revision \d+, \d+ bytes\)$/m);
    assert.equal((await kubectl(kc, cache, ['create', 'configmap', 'later', '--from-literal=b=2'])).code, 0);
    assert.equal((await kubectl(kc, cache, ['delete', 'configmap', 'keep'])).code, 0);
    // Only cluster admins may take snapshots; a bad name is refused.
    const denied = await kubectl(kc, cache, ['create', '--raw', '/tkube/v1/snapshots', '-f', '-', '--as', 'jane'], '{}');
    assert.match(denied.stderr, /User "jane" cannot post path "\/tkube\/v1\/snapshots"/);
    const bad = await kubectl(kc, cache, ['create', '--raw', '/tkube/v1/snapshots?name=..%2Fx', '-f', '-'], '{}');
    assert.match(bad.stderr, /name: Invalid value/);
    // A running server holds the state file: restore refuses.
    const busy = await tkube(['snapshot', 'restore', '--data-dir', dataDir, saved.stdout.match(/(\/\S+\.db)/)![1]!]);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /in use by another tkube server/);
    assert.equal(await stop(first), 0);

    const listed = await tkube(['snapshot', 'ls', '--data-dir', dataDir]);
    const name = listed.stdout.match(/^(before-\S+\.db)\s/m)?.[1];
    assert.ok(name, listed.stdout);
    const restored = await tkube(['snapshot', 'restore', '--data-dir', dataDir, name]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /the replaced state is kept as .*state\.db\..*\.bak/);
    const second = startServer(dataDir, port);
    await second.ready;
    const cms = await kubectl(kc, cache, ['get', 'configmaps', '-o', 'name']);
    assert.match(cms.stdout, /^configmap\/keep$/m);
    assert.doesNotMatch(cms.stdout, /later/);
    assert.equal(await stop(second), 0);
    // Offline: with no server, save copies the file itself; a file that is not a snapshot is refused.
    const offline = await tkube(['snapshot', 'save', '--data-dir', dataDir, '--name', 'offline']);
    assert.equal(offline.code, 0, offline.stderr);
    const junk = join(dataDir, 'junk.db');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(junk, 'not a database'.repeat(100));
    const refused = await tkube(['snapshot', 'restore', '--data-dir', dataDir, junk]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /cannot restore .*junk\.db: .*not a SQLite database/);
  });

  test('a bad flag gets a clear error and a non-zero exit', async () => {
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      execFile(join(root, 'tkube'), ['server', '--https-port', 'abc'], (e, _o, stderr) => resolve({ code: e ? Number((e as { code?: number }).code) : 0, err: String(stderr) }));
    });
    assert.notEqual(r.code, 0);
    assert.match(r.err, /port must be a positive integer, got "abc"/);
  });

  test('a foreign database file is refused with a clear error', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tkube-cli-'));
    dirs.push(dataDir);
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(join(dataDir, 'db'), { recursive: true });
    await writeFile(join(dataDir, 'db', 'state.db'), 'this is not a database, it is a letter to my aunt\n'.repeat(200));
    const r = startServer(dataDir, await freePort());
    await assert.rejects(r.ready, /exited with 1[\s\S]*state\.db/);
  });
});
