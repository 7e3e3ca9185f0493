// End to end on the real runtime (root, Debian's containerd + runc + CNI plugins): the supervised
// containerd under a temporary data dir, image import/list/remove, sandboxes on a test bridge,
// container logs in CRI format, ExecSync, survival across containerd restarts and crashes, and the
// raw sandbox+container start latency over CRI. Every process, mount and link it makes is removed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { CriClient } from '../kubelet/cri/client.ts';
import type { PodSandboxConfig } from '../kubelet/cri/messages.ts';
import { buildBusyboxImage, TEST_IMAGE } from './busybox_image.ts';
import { writeBridgeNetwork } from './cni.ts';
import { Containerd } from './containerd.ts';
import { importImage, listImages, removeImage } from './images.ts';
import { pauseElf, PAUSE_IMAGE } from './pause_image.ts';
import { readTarMembers, writeTar } from './tar.ts';
import { buildOciArchive } from './oci_image.ts';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes that belong to this test's runtime: containerd and shims name the data dir, containers live in it. */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(dir)) {
        pids.push(Number(entry));
        continue;
      }
      const root = readlinkSync(`/proc/${entry}/root`);
      if (root.startsWith(dir)) pids.push(Number(entry));
    } catch { /* gone, or a zombie */ }
  }
  return pids;
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir + '/'));
}

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A free /24 and bridge name for this run, so parallel runs and a real tkube0 are left alone. */
function pickTestNetwork(): { subnet: string; bridge: string; prefix: string } {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (let i = 0; i < 50; i++) {
    const x = 100 + Math.floor(Math.random() * 150);
    const prefix = `10.88.${x}.`;
    const bridge = `tkt${x}`;
    if (!routes.includes(prefix) && !linkExists(bridge)) return { subnet: `${prefix}0/24`, bridge, prefix };
  }
  throw new Error('no free 10.88.X.0/24 test network');
}

/** A docker-save archive (manifest.json + config + uncompressed layer) of the pause program. */
function dockerArchive(name: string): Buffer {
  const layer = writeTar([{ name: 'pause', type: 'file', mode: 0o755, data: pauseElf() }]);
  const hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/pause'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${hex(layer)}`] },
  }));
  const manifest = [{ Config: `${hex(config)}.json`, RepoTags: [name], Layers: [`${hex(layer)}/layer.tar`] }];
  return writeTar([
    { name: 'manifest.json', type: 'file', data: Buffer.from(JSON.stringify(manifest)) },
    { name: `${hex(config)}.json`, type: 'file', data: config },
    { name: `${hex(layer)}/`, type: 'dir' },
    { name: `${hex(layer)}/layer.tar`, type: 'file', data: layer },
  ]);
}

describe('containerd runtime (root, real containers)', { timeout: 120_000 }, () => {
  // short path: the socket path must stay under 108 bytes
  const dataDir = mkdtempSync('/tmp/tkube-cd-');
  const net = pickTestNetwork();
  const cd = new Containerd({ dataDir, restartDelayMs: 100, readyTimeoutMs: 30_000 });
  let cri: CriClient;
  let sandboxCount = 0;

  function sandboxConfig(name: string): PodSandboxConfig {
    const logDirectory = join(dataDir, 'pods', name);
    mkdirSync(logDirectory, { recursive: true });
    sandboxCount++;
    return {
      metadata: { name, uid: `uid-${name}-${sandboxCount}`, namespace: 'tkube-test' },
      hostname: name,
      logDirectory,
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    };
  }

  async function runBusybox(sandbox: string, config: PodSandboxConfig, name: string, script: string): Promise<string> {
    const id = await cri.createContainer(sandbox, {
      metadata: { name },
      image: { image: TEST_IMAGE },
      command: ['sh', '-c', script],
      logPath: `${name}/0.log`,
    }, config);
    await cri.startContainer(id);
    return id;
  }

  async function removeAllSandboxes(): Promise<void> {
    for (const s of await cri.listPodSandbox()) {
      await cri.stopPodSandbox(s.id);
      await cri.removePodSandbox(s.id);
    }
  }

  // containerd 1.6 puts shim sockets in /run/containerd/s whatever its state dir; put back what we found
  const hostRunDirExisted = existsSync('/run/containerd');

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests run containers and need root');
    writeBridgeNetwork(cd.paths, { podCIDR: net.subnet, bridge: net.bridge, ipMasq: false });
    await cd.start();
    cri = new CriClient(cd.endpoint, { timeoutMs: 30_000 });
    const file = join(dataDir, 'busybox.oci.tar');
    writeFileSync(file, buildBusyboxImage().tar);
    assert.deepEqual(await importImage(file, { socket: cd.paths.socket }), [TEST_IMAGE]);
  });

  after(async () => {
    // The last test removes everything the normal way; this is the safety net when one failed.
    try {
      if (cd.pid !== undefined) await removeAllSandboxes();
    } catch { /* best effort */ }
    cri?.close();
    await cd.stop();
    for (const pid of processesUnder(dataDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
    }
    for (const m of mountsUnder(dataDir).reverse()) {
      try {
        execFileSync('umount', ['-l', m], { stdio: 'ignore' });
      } catch { /* already gone */ }
    }
    if (linkExists(net.bridge)) execFileSync('ip', ['link', 'del', net.bridge]);
    rmSync(dataDir, { recursive: true, force: true });
    if (!hostRunDirExisted) {
      for (const d of ['/run/containerd/s', '/run/containerd']) {
        try {
          execFileSync('rmdir', [d], { stdio: 'ignore' });
        } catch { /* not empty, or not there */ }
      }
    }
  });

  test('containerd serves CRI v1 from the data dir, with the pause image and a ready network', async () => {
    const v = await cri.version();
    assert.equal(v.runtimeName, 'containerd');
    assert.equal(v.runtimeApiVersion, 'v1');
    assert.deepEqual(cd.version, v);
    assert.ok(existsSync(cd.paths.socket) && existsSync(join(cd.paths.root, 'io.containerd.metadata.v1.bolt')));
    assert.equal(readFileSync(cd.paths.pidFile, 'utf8').trim(), String(cd.pid));
    const conditions = Object.fromEntries((await cri.status()).status!.conditions.map((c) => [c.type, c.status]));
    assert.deepEqual(conditions, { RuntimeReady: true, NetworkReady: true });
    const pause = await cri.imageStatus({ image: PAUSE_IMAGE });
    assert.deepEqual(pause.image?.repoTags, [PAUSE_IMAGE]);
    assert.ok(pause.image!.size < 4096, `pause image is ${pause.image!.size} bytes`);
  });

  test('images: import (OCI and docker-save), list, remove a tag, remove an image', async () => {
    const other = join(dataDir, 'other.oci.tar');
    writeFileSync(other, buildBusyboxImage({ name: 'tkube.local/busybox:other' }).tar);
    assert.deepEqual(await importImage(other, { socket: cd.paths.socket }), ['tkube.local/busybox:other']);
    const docker = join(dataDir, 'docker.tar.gz');
    writeFileSync(docker, gzipSync(dockerArchive('tkube.local/docker-pause:1')));
    assert.deepEqual(await importImage(docker, { socket: cd.paths.socket }), ['tkube.local/docker-pause:1']);
    // an OCI archive that names its manifest only by tag needs a repository
    const bare = join(dataDir, 'bare.tar');
    const layout = buildOciArchive({ name: 'tkube.local/ignored:v7', files: [{ name: 'pause', type: 'file', mode: 0o755, data: pauseElf() }] });
    const members = await readTarMembers(Readable.from([layout.tar]), () => true);
    const index = JSON.parse(members.get('index.json')!.toString());
    index.manifests[0].annotations = { 'org.opencontainers.image.ref.name': 'v7' };
    members.set('index.json', Buffer.from(JSON.stringify(index)));
    writeFileSync(bare, writeTar([...members].map(([name, data]) => ({ name, type: 'file' as const, data }))));
    await assert.rejects(importImage(bare, { socket: cd.paths.socket }), /named only by tag \(v7\); give a repository name/);
    assert.deepEqual(await importImage(bare, { socket: cd.paths.socket, baseName: 'tkube.local/bare' }), ['tkube.local/bare:v7']);
    await removeImage('tkube.local/bare:v7', { socket: cd.paths.socket });
    const junk = join(dataDir, 'junk.tar');
    writeFileSync(junk, writeTar([{ name: 'index.json', type: 'file', data: Buffer.from(JSON.stringify({ manifests: [{ digest: 'sha256:00', annotations: { 'io.containerd.image.name': 'tkube.local/junk:1' } }] })) }]));
    await assert.rejects(importImage(junk, { socket: cd.paths.socket }), /^Error: ctr images import: /);

    let images = await listImages({ socket: cd.paths.socket });
    const busybox = images.find((i) => i.repoTags.includes(TEST_IMAGE));
    assert.deepEqual([...busybox!.repoTags].sort(), ['tkube.local/busybox:other', 'tkube.local/busybox:stable']);
    assert.ok(images.some((i) => i.repoTags.includes('tkube.local/docker-pause:1')));

    await removeImage('tkube.local/busybox:other', { socket: cd.paths.socket });
    await removeImage('tkube.local/docker-pause:1', { socket: cd.paths.socket });
    images = await listImages({ socket: cd.paths.socket });
    assert.deepEqual(images.find((i) => i.repoTags.includes(TEST_IMAGE))?.repoTags, [TEST_IMAGE]);
    assert.ok(!images.some((i) => i.repoTags.includes('tkube.local/docker-pause:1')));
    assert.ok(!images.some((i) => i.repoTags.length === 0), 'no nameless image left behind');
    await assert.rejects(removeImage('tkube.local/docker-pause:1', { socket: cd.paths.socket }), /not found/);
  });

  test('a sandbox runs our pause program and a container logs in CRI format', async () => {
    const config = sandboxConfig('logs');
    const sb = await cri.runPodSandbox(config);
    const sbStatus = await cri.podSandboxStatus(sb, true);
    assert.equal(sbStatus.status?.state, 'SANDBOX_READY');
    assert.ok(sbStatus.status?.network?.ip.startsWith(net.prefix), `pod IP ${sbStatus.status?.network?.ip}`);
    const pausePid = JSON.parse(sbStatus.info['info']!).pid as number;
    // runc execs /pause from its `runc init` stage; the sandbox may report ready a moment before.
    const cmdline = await waitFor('the sandbox process to become /pause', async () => {
      const c = readFileSync(`/proc/${pausePid}/cmdline`, 'utf8');
      return c === '/pause\0' ? c : undefined;
    });
    assert.equal(cmdline, '/pause\0');

    const id = await runBusybox(sb, config, 'hello', 'echo hello; echo oops >&2; sleep 1');
    const status = await waitFor('the container to exit', async () => {
      const s = (await cri.containerStatus(id)).status!;
      return s.state === 'CONTAINER_EXITED' ? s : undefined;
    });
    assert.equal(status.exitCode, 0);
    assert.equal(status.reason, 'Completed');
    assert.equal(status.logPath, join(config.logDirectory!, 'hello/0.log'));
    const lines = readFileSync(status.logPath, 'utf8').trimEnd().split('\n').sort((a, b) => a.split(' ')[1]!.localeCompare(b.split(' ')[1]!));
    assert.equal(lines.length, 2);
    // containerd stamps lines in RFC 3339 with nanoseconds, trailing zeros of the fraction trimmed
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z stderr F oops$/);
    assert.match(lines[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z stdout F hello$/);

    await cri.removeContainer(id);
    assert.deepEqual(await cri.listContainers({ podSandboxId: sb }), []);
    await cri.stopPodSandbox(sb);
    assert.equal((await cri.podSandboxStatus(sb)).status?.state, 'SANDBOX_NOTREADY');
    await cri.removePodSandbox(sb);
    assert.ok(!alive(pausePid));
    await assert.rejects(cri.podSandboxStatus(sb), /NotFound/);
  });

  test('ExecSync returns stdout, stderr and the exit code; two sandboxes reach each other on the bridge', async () => {
    const ca = sandboxConfig('a');
    const cb = sandboxConfig('b');
    const [sa, sb] = [await cri.runPodSandbox(ca), await cri.runPodSandbox(cb)];
    const ida = await runBusybox(sa, ca, 'main', 'sleep 3600');
    await runBusybox(sb, cb, 'main', 'sleep 3600');
    const r = await cri.execSync(ida, ['sh', '-c', 'echo out; echo err >&2; exit 3'], 10);
    assert.deepEqual([r.stdout.toString(), r.stderr.toString(), r.exitCode], ['out\n', 'err\n', 3]);
    const ipB = (await cri.podSandboxStatus(sb)).status!.network!.ip;
    const ping = await cri.execSync(ida, ['ping', '-c', '1', '-W', '5', ipB], 15);
    assert.equal(ping.exitCode, 0, ping.stdout.toString() + ping.stderr.toString());
    const lo = await cri.execSync(ida, ['ping', '-c', '1', '-W', '5', '127.0.0.1'], 15);
    assert.equal(lo.exitCode, 0, 'loopback is up in the pod');
    const host = await cri.execSync(ida, ['hostname'], 10);
    assert.equal(host.stdout.toString(), 'a\n');
    await cri.stopPodSandbox(sa);
    await cri.stopPodSandbox(sb);
    await cri.removePodSandbox(sa);
    await cri.removePodSandbox(sb);
  });

  test('a running container survives containerd being stopped, restarted, and killed', async () => {
    const config = sandboxConfig('survivor');
    const sb = await cri.runPodSandbox(config);
    const id = await runBusybox(sb, config, 'main', 'sleep 3600');
    const pid = JSON.parse((await cri.containerStatus(id, true)).info['info']!).pid as number;
    assert.ok(alive(pid));

    await cd.stop();
    assert.equal(cd.pid, undefined);
    assert.ok(alive(pid), 'the container outlives containerd');
    // an agent that died without stopping containerd leaves it running: the next start replaces it
    const orphan = spawn('/usr/bin/containerd', ['--config', cd.paths.config], { detached: true, stdio: 'ignore' });
    const orphanExit = new Promise((r) => orphan.once('exit', r));
    writeFileSync(cd.paths.pidFile, `${orphan.pid}\n`);
    await waitFor('the orphan containerd to serve', async () => (await cri.version()).runtimeName);
    await cd.start();
    await orphanExit;
    assert.notEqual(cd.pid, orphan.pid);
    assert.equal((await cri.containerStatus(id)).status?.state, 'CONTAINER_RUNNING');
    assert.equal((await cri.execSync(id, ['echo', 'still here'], 10)).stdout.toString(), 'still here\n');

    const before = cd.pid!;
    process.kill(before, 'SIGKILL');
    await waitFor('containerd to be restarted', async () => cd.pid !== undefined && cd.pid !== before && (await cri.version()).runtimeName === 'containerd');
    assert.equal(cd.restarts, 1);
    assert.ok(alive(pid));
    assert.equal((await cri.containerStatus(id)).status?.state, 'CONTAINER_RUNNING');
    await cri.stopContainer(id, 0);
    assert.equal((await cri.containerStatus(id)).status?.state, 'CONTAINER_EXITED');
    assert.ok(!alive(pid));
    await cri.stopPodSandbox(sb);
    await cri.removePodSandbox(sb);
  });

  test('raw sandbox + container start over CRI (20 pods, p50/p99)', async (t) => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const config = sandboxConfig(`bench-${i}`);
      const t0 = performance.now();
      const sb = await cri.runPodSandbox(config);
      await runBusybox(sb, config, 'main', 'sleep 3600');
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const pct = (p: number): number => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)]!;
    const line = `raw CRI pod start (RunPodSandbox with CNI + CreateContainer + StartContainer): p50 ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms over ${times.length}`;
    t.diagnostic(line);
    process.stderr.write(line + '\n');
    const running = await cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } });
    assert.equal(running.length, 20);
    assert.ok(pct(50) < 5000);
  });

  test('removing every sandbox leaves no container, shim, mount or pod IP behind', async () => {
    await removeAllSandboxes();
    assert.deepEqual(await cri.listPodSandbox(), []);
    assert.deepEqual(await cri.listContainers(), []);
    const others = await waitFor('shims to exit', () => {
      const left = processesUnder(dataDir).filter((p) => p !== cd.pid);
      return left.length === 0 ? left : undefined;
    });
    assert.deepEqual(others, []);
    // only the overlay snapshotter's own bind mounts may remain while containerd runs
    assert.deepEqual(mountsUnder(join(cd.paths.state)), []);
    const ipam = join(cd.paths.cniDataDir, 'tkube');
    const leased = existsSync(ipam) ? readdirSync(ipam).filter((f) => f.startsWith(net.prefix)) : [];
    assert.deepEqual(leased, []);
    await cd.stop();
    assert.deepEqual(processesUnder(dataDir), []);
    assert.deepEqual(mountsUnder(dataDir), []);
  });
});

describe('Containerd supervision without a runtime', () => {
  test('options are checked up front', () => {
    assert.throws(() => new Containerd({ dataDir: 'relative' }), /ContainerdOptions.dataDir: want an absolute path/);
    assert.throws(() => new Containerd({ dataDir: '/tmp', stopTimeoutMs: -5 }), /ContainerdOptions.stopTimeoutMs/);
    assert.throws(() => new Containerd({ dataDir: '/' + 'x'.repeat(100) }), /longer than 107 bytes/);
  });

  test('a containerd that cannot start fails start() with its log and is not restarted', async () => {
    const dataDir = mkdtempSync('/tmp/tkube-cdfail-');
    const cd = new Containerd({ dataDir, binary: '/bin/false', restartDelayMs: 10 });
    try {
      await assert.rejects(cd.start(), /containerd exited during start \(1\)/);
      assert.equal(cd.pid, undefined);
      assert.equal(cd.restarts, 0);
      await assert.rejects(new Containerd({ dataDir, binary: '/nonexistent/containerd' }).start(), /containerd not found at \/nonexistent\/containerd/);
    } finally {
      await cd.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
