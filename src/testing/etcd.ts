// Starts a private, single-member etcd (Debian's etcd-server, /usr/bin/etcd) on 127.0.0.1 for tests
// and benchmarks: free client and peer ports, a temporary data dir, and a stop() that kills it by
// PID and removes the dir. etcd dies with this process even if stop() is never reached.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running etcd. */
export interface TestEtcd {
  /** Datastore endpoint for openStore, e.g. "etcd://127.0.0.1:40123". */
  readonly endpoint: string;
  /** The client URL, e.g. "http://127.0.0.1:40123". */
  readonly clientUrl: string;
  readonly pid: number;
  readonly dataDir: string;
  /** Kills etcd (SIGTERM, then SIGKILL) and removes its data dir; idempotent. */
  stop(): Promise<void>;
}

/** Options of startEtcd. */
export interface StartEtcdOptions {
  /** The etcd binary (default $TKUBE_ETCD_BIN or /usr/bin/etcd). */
  readonly binary?: string;
  /**
   * Put the data dir on tmpfs (/dev/shm) so fsync costs nothing: fast tests, but not durable.
   * Benchmarks leave this off so that etcd pays for durability like the sqlite driver does.
   */
  readonly memoryBacked?: boolean;
  /** etcd's --max-request-bytes; default 4 MiB so the largest value storage accepts fits. */
  readonly maxRequestBytes?: number;
  /** How long to wait for etcd to answer /health (default 30 s). */
  readonly readyTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

/** Starts etcd and resolves once it answers /health; throws with etcd's own output if it cannot. */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<TestEtcd> {
  const binary = opts.binary ?? process.env['TKUBE_ETCD_BIN'] ?? '/usr/bin/etcd';
  if (!existsSync(binary)) {
    throw new Error(`etcd not found at ${binary}: install Debian's etcd-server (apt-get install -y etcd-server)`);
  }
  // Ports are found by binding port 0 and releasing it, so another process may grab one in between;
  // a start that fails on a taken port is retried with fresh ports.
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binary, opts);
    } catch (err) {
      lastErr = err;
      if (!(err instanceof Error) || !/address already in use/.test(err.message)) throw err;
    }
  }
  throw lastErr;
}

async function startOnce(binary: string, opts: StartEtcdOptions): Promise<TestEtcd> {
  const base = opts.memoryBacked && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  removeOrphanedDirs(base);
  // The owner's PID in the name lets a later run remove the dir if this process is SIGKILLed.
  const dataDir = mkdtempSync(join(base, `tkube-etcd-${process.pid}-`));
  liveDirs.add(dataDir);
  const [clientPort, peerPort] = await freePorts(2);
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const name = 'tkube-test';
  const args = [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', `tkube-${process.pid}-${clientPort}`,
    '--max-request-bytes', String(opts.maxRequestBytes ?? 4 * 1024 * 1024),
    '--logger', 'zap',
    '--log-outputs', 'stderr',
    '--log-level', 'warn',
  ];
  // setpriv --pdeathsig makes the kernel kill etcd when this process dies, however it dies.
  const setpriv = existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : undefined;
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  installExitHook();
  live.add(child);

  let output = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    output = (output + chunk).slice(-16 * 1024);
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      output += `\n${err.message}`;
      exited ??= { code: null, signal: null };
      live.delete(child);
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited && child.pid !== undefined) {
      signal(child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (!exited && child.pid !== undefined) signal(child.pid, 'SIGKILL');
      }, 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
    liveDirs.delete(dataDir);
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`etcd exited before it was ready (code ${exited.code}, signal ${exited.signal}):\n${output.trim()}`);
    }
    if (await healthy(clientUrl)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become ready within ${opts.readyTimeoutMs ?? 30_000} ms:\n${output.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { endpoint: `etcd://127.0.0.1:${clientPort}`, clientUrl, pid: child.pid!, dataDir, stop };
}

/** True when etcd's /health says so. */
function healthy(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet(`${clientUrl}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** Ports the kernel reports free on 127.0.0.1 (all held at once so they differ). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    return addr.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Removes data dirs left by test processes that died without cleaning up (etcd died with them). */
function removeOrphanedDirs(base: string): void {
  for (const name of readdirSync(base)) {
    const m = /^tkube-etcd-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    rmSync(join(base, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signals a process that may have exited already (its exit event not yet seen). */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Last-resort cleanup when the process exits without stop(): synchronous by necessity. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      if (child.pid !== undefined) signal(child.pid, 'SIGKILL');
    }
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}
