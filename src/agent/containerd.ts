// Runs Debian's containerd as a supervised child of the agent: writes its config, starts it in its
// own process group, waits until the CRI socket answers Version, imports the pause image when it is
// missing, restarts it with backoff when it dies, and stops it by PID (SIGTERM, then SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { CriClient } from '../kubelet/cri/client.ts';
import type { VersionInfo } from '../kubelet/cri/messages.ts';
import {
  containerdPaths, detectCgroupDriver, renderContainerdConfig, type CgroupDriver, type ContainerdPaths,
} from './containerd_config.ts';
import { importImage } from './images.ts';
import { buildPauseImage, PAUSE_IMAGE } from './pause_image.ts';

const log = logger('containerd');

/** Options of Containerd. */
export interface ContainerdOptions {
  /** tkube's data dir; containerd's files go under DATA/agent/containerd. */
  readonly dataDir: string;
  /** The containerd binary (default /usr/bin/containerd). */
  readonly binary?: string;
  /** Sandbox image (default PAUSE_IMAGE, imported from a local build when missing). */
  readonly sandboxImage?: string;
  /** Build and import the pause image when containerd lacks it (default true). */
  readonly importPauseImage?: boolean;
  /** Default: detected from the host (cgroupfs on v1). */
  readonly cgroupDriver?: CgroupDriver;
  /** CNI plugin binaries (default /usr/lib/cni). */
  readonly cniBinDir?: string;
  /** containerd's log level (default info); its output goes to DATA/agent/containerd/containerd.log. */
  readonly logLevel?: string;
  /** How long a start may take until Version answers (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL on stop (default 10 s). */
  readonly stopTimeoutMs?: number;
  /** First restart delay after a crash (default 500 ms), doubling up to maxRestartDelayMs. */
  readonly restartDelayMs?: number;
  /** Longest restart delay (default 30 s). */
  readonly maxRestartDelayMs?: number;
}

/** A run of containerd that stayed up this long resets the restart backoff. */
const STABLE_RUN_MS = 60_000;

function checkOptions(o: ContainerdOptions): void {
  if (!o.dataDir || !o.dataDir.startsWith('/')) throw new Error(`ContainerdOptions.dataDir: want an absolute path, got ${JSON.stringify(o.dataDir)}`);
  for (const key of ['readyTimeoutMs', 'stopTimeoutMs', 'restartDelayMs', 'maxRestartDelayMs'] as const) {
    const v = o[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`ContainerdOptions.${key}: want milliseconds >= 0, got ${String(v)}`);
  }
  // A unix socket path is limited to 107 bytes; containerd fails obscurely past it.
  const sock = containerdPaths(o.dataDir).socket;
  if (Buffer.byteLength(sock) > 107) throw new Error(`ContainerdOptions.dataDir: socket path ${sock} is longer than 107 bytes`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The supervised containerd of one data dir. */
export class Containerd implements Disposable {
  readonly paths: ContainerdPaths;
  /** CRI endpoint, "unix:///DATA/agent/containerd/containerd.sock". */
  readonly endpoint: string;
  readonly #opts: ContainerdOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stopping = false;
  /** Set once a start succeeded: from then on a dead containerd is restarted. */
  #supervising = false;
  #restartTimer: NodeJS.Timeout | undefined;
  /** A restart under way (spawned by the timer), which stop() waits out. */
  #restarting: Promise<void> | undefined;
  #restartDelay: number;
  #restarts = 0;
  #startedAt = 0;
  #version: VersionInfo | undefined;

  constructor(opts: ContainerdOptions) {
    checkOptions(opts);
    this.#opts = opts;
    this.paths = containerdPaths(opts.dataDir);
    this.endpoint = `unix://${this.paths.socket}`;
    this.#restartDelay = opts.restartDelayMs ?? 500;
  }

  /** PID of the running containerd, if any. */
  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  /** How many times containerd was restarted after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The runtime's answer to Version at the last successful start. */
  get version(): VersionInfo | undefined {
    return this.#version;
  }

  /** Starts containerd (if it is not running) and resolves when it serves CRI with the pause image present. */
  async start(): Promise<void> {
    await this.#restarting;
    this.#stopping = false;
    if (this.pid === undefined) await this.#spawnAndWait();
    this.#supervising = true;
    const image = this.#opts.sandboxImage ?? PAUSE_IMAGE;
    if (this.#opts.importPauseImage ?? true) await this.#ensurePauseImage(image);
  }

  async #ensurePauseImage(image: string): Promise<void> {
    const cri = new CriClient(this.endpoint, { timeoutMs: 10_000 });
    try {
      if ((await cri.imageStatus({ image })).image) return;
    } finally {
      cri.close();
    }
    const file = join(this.paths.dir, 'pause.oci.tar');
    writeFileSync(file, buildPauseImage({ name: image }).tar);
    try {
      await importImage(file, { socket: this.paths.socket });
    } finally {
      rmSync(file, { force: true });
    }
    log.info('imported the sandbox image', { image });
  }

  async #prepare(): Promise<void> {
    const p = this.paths;
    for (const d of [p.dir, p.root, p.state, p.opt, p.cniConfDir, p.cniDataDir]) mkdirSync(d, { recursive: true, mode: 0o711 });
    writeFileSync(p.config, renderContainerdConfig({
      paths: p,
      sandboxImage: this.#opts.sandboxImage ?? PAUSE_IMAGE,
      cgroupDriver: this.#opts.cgroupDriver ?? detectCgroupDriver(),
      cniBinDir: this.#opts.cniBinDir,
      logLevel: this.#opts.logLevel,
    }));
    await this.#killStale();
    rmSync(p.socket, { force: true });
  }

  /** A containerd left running by an agent that died holds the socket and the metadata lock. */
  async #killStale(): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(this.paths.pidFile, 'utf8').trim());
    } catch {
      return;
    }
    if (!(pid > 1) || !isAlive(pid) || !cmdline(pid).includes(this.paths.config)) return;
    log.warn('stopping a containerd left over from an earlier run', { pid });
    // its containers live on in their shims; a clean shutdown is only kinder to its database
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
  }

  /** Starts one containerd, killing it again if it does not become ready. */
  async #spawnAndWait(): Promise<void> {
    await this.#prepare();
    const binary = this.#opts.binary ?? '/usr/bin/containerd';
    if (!existsSync(binary)) throw new Error(`containerd not found at ${binary}: install Debian's containerd and runc`);
    const logFd = openSync(this.paths.log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(binary, ['--config', this.paths.config], {
        // own process group: a Ctrl-C meant for the agent must not take containerd down mid-write
        detached: true,
        stdio: ['ignore', logFd, logFd],
        env: { ...process.env, PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${process.env['PATH'] ? ':' + process.env['PATH'] : ''}` },
      });
    } finally {
      closeSync(logFd);
    }
    this.#child = child;
    this.#startedAt = Date.now();
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        this.#onExit(child, code, signal);
      });
      // a process that could not be spawned at all never emits 'exit'
      child.once('error', () => { if (child.pid === undefined) resolve(); });
    });
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    spawnError.catch(() => undefined); // also reported through the race below, or moot once ready
    if (child.pid) writeFileSync(this.paths.pidFile, `${child.pid}\n`);
    try {
      this.#version = await Promise.race([this.#waitReady(child), spawnError]);
    } catch (err) {
      await this.#terminate(child);
      throw err;
    }
    log.info('containerd is serving CRI', { pid: child.pid, version: this.#version.runtimeVersion });
  }

  async #waitReady(child: ChildProcess): Promise<VersionInfo> {
    const timeoutMs = this.#opts.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    const cri = new CriClient(this.endpoint, { timeoutMs: 1000 });
    try {
      let lastErr: unknown;
      while (Date.now() < deadline) {
        if (this.#stopping) throw new Error('containerd start abandoned: stopping');
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`containerd exited during start (${child.exitCode ?? child.signalCode}); its log: ${this.paths.log}\n${this.logTail()}`);
        }
        if (existsSync(this.paths.socket)) {
          try {
            return await cri.version();
          } catch (err) {
            lastErr = err;
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`containerd did not answer on ${this.paths.socket} within ${timeoutMs} ms (${String(lastErr ?? 'no socket')}); its log: ${this.paths.log}\n${this.logTail()}`);
    } finally {
      cri.close();
    }
  }

  /** The last lines of containerd's log, for error messages. */
  logTail(lines = 15): string {
    try {
      return readFileSync(this.paths.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    // a failed first start is the caller's to handle; only a supervised containerd is restarted
    if (this.#child !== child || this.#stopping || !this.#supervising) return;
    log.warn('containerd exited', { code, signal });
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (this.#stopping || !this.#supervising || this.#restartTimer) return;
    if (Date.now() - this.#startedAt > STABLE_RUN_MS) this.#restartDelay = this.#opts.restartDelayMs ?? 500;
    const delay = this.#restartDelay;
    this.#restartDelay = Math.min(delay * 2, this.#opts.maxRestartDelayMs ?? 30_000);
    log.info('restarting containerd', { delayMs: delay });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#stopping) return;
      this.#restarts++;
      this.#restarting = this.#spawnAndWait().catch((err: unknown) => {
        if (this.#stopping) return;
        log.error('containerd restart failed', { err });
        // a child that did start has already scheduled the next try by exiting; one that never started has not
        if (this.pid === undefined) this.#scheduleRestart();
      }).finally(() => {
        this.#restarting = undefined;
      });
    }, delay);
  }

  async #terminate(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(true), this.#opts.stopTimeoutMs ?? 10_000); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      log.warn('containerd ignored SIGTERM; killing it', { pid: child.pid });
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch { /* already gone */ }
      await exited;
    }
  }

  /** Stops containerd (containers keep running in their shims) and any pending restart. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#supervising = false;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    await this.#restarting;
    const child = this.#child;
    if (child) await this.#terminate(child);
    await this.#exited;
    rmSync(this.paths.pidFile, { force: true });
  }

  async dispose(): Promise<void> {
    await this.stop();
  }
}
