// Reads a container's CRI log file for /containerLogs with upstream kubelet's semantics
// (pkg/kubelet/kuberuntime/logs): tailLines counted from the end of the file, since* filtering,
// timestamps in RFC3339NanoFixed, limitBytes cutting the output, and follow until the container stops.
import { watch, type FSWatcher } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import type { RuntimeService } from '../cri/types.ts';
import { findTailLineStart, formatLogTime, msToNs, parseCriLogLine, parseLogTime } from './cri_log.ts';
import { KubeletError } from './types.ts';

/** What /containerLogs was asked for (v1.PodLogOptions as the kubelet sees it). */
export interface PodLogOptions {
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tailLines?: number;
  readonly limitBytes?: number;
  readonly sinceSeconds?: number;
  /** RFC 3339. */
  readonly sinceTime?: string;
}

/** The reader's own options (upstream's LogOptions): -1 means "all". */
export interface LogReadOptions {
  readonly tail: number;
  readonly bytes: number;
  /** Skip lines stamped before this (ns since the epoch; 0n = none). */
  readonly sinceNs: bigint;
  readonly follow: boolean;
  readonly timestamps: boolean;
}

/** Where log output goes; resolves when the bytes may be followed by more (backpressure). */
export type LogSink = (data: Buffer, stream: 'stdout' | 'stderr') => Promise<void>;

/** How often a follower re-checks the file and the container without a change event (upstream: 1 s). */
const FORCE_CHECK_MS = 1000;
const READ_CHUNK = 64 * 1024;

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '') return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new KubeletError(400, '{"message": "Unable to decode query."}');
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw new KubeletError(400, '{"message": "Unable to decode query."}');
  return Number(v);
}

/** Decodes and validates /containerLogs query parameters the way upstream's kubelet does. */
export function parseLogQuery(q: URLSearchParams): PodLogOptions {
  let tailLines = intParam(q, 'tailLines');
  // the legacy "tail" parameter; "all" means no limit
  const tail = q.get('tail');
  if (tail !== null && tail !== '') tailLines = tail === 'all' ? undefined : intParam(new URLSearchParams({ tail }), 'tail');
  const sinceTime = q.get('sinceTime') || undefined;
  if (sinceTime !== undefined && !parseLogTime(sinceTime)) throw new KubeletError(400, '{"message": "Unable to decode query."}');
  const opts: PodLogOptions = {
    follow: boolParam(q, 'follow'), previous: boolParam(q, 'previous'), timestamps: boolParam(q, 'timestamps'),
    tailLines, limitBytes: intParam(q, 'limitBytes'), sinceSeconds: intParam(q, 'sinceSeconds'), sinceTime,
  };
  const invalid = (opts.tailLines !== undefined && opts.tailLines < 0)
    || (opts.limitBytes !== undefined && opts.limitBytes < 1)
    || (opts.sinceSeconds !== undefined && opts.sinceTime !== undefined)
    || (opts.sinceSeconds !== undefined && opts.sinceSeconds < 1);
  if (invalid) throw new KubeletError(422, '{"message": "Invalid request."}');
  return opts;
}

/** Converts API options to reader options; `nowMs` anchors sinceSeconds. */
export function newLogReadOptions(o: PodLogOptions, nowMs: number): LogReadOptions {
  let sinceNs = 0n;
  if (o.sinceSeconds !== undefined) sinceNs = msToNs(nowMs - o.sinceSeconds * 1000);
  if (o.sinceTime !== undefined) {
    const t = parseLogTime(o.sinceTime)!.ns;
    if (t > sinceNs) sinceNs = t;
  }
  return { tail: o.tailLines ?? -1, bytes: o.limitBytes ?? -1, sinceNs, follow: o.follow, timestamps: o.timestamps };
}

/** Waits for the log file to change, with a periodic wake-up and cancellation. */
class ChangeWaiter {
  #watcher: FSWatcher;
  #changed = false;
  #wake: (() => void) | undefined;

  constructor(path: string) {
    this.#watcher = watch(path, { persistent: false }, () => {
      this.#changed = true;
      this.#wake?.();
    });
    this.#watcher.on('error', () => {
      this.#changed = true;
      this.#wake?.();
    });
  }

  async wait(signal: AbortSignal): Promise<void> {
    if (this.#changed || signal.aborted) {
      this.#changed = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, FORCE_CHECK_MS);
      signal.addEventListener('abort', done);
      this.#wake = done;
    });
    this.#changed = false;
  }

  close(): void {
    this.#watcher.close();
  }
}

async function isRunning(runtime: Pick<RuntimeService, 'containerStatus'>, id: string): Promise<boolean> {
  try {
    return (await runtime.containerStatus(id)).status?.state === 'CONTAINER_RUNNING';
  } catch {
    return false;
  }
}

/**
 * Writes the log at `path` to `sink` per `opts`. With follow it keeps reading until the container
 * (checked over CRI) is no longer running and the file is drained, or `signal` aborts.
 */
export async function readLogs(
  path: string, containerId: string, opts: LogReadOptions,
  runtime: Pick<RuntimeService, 'containerStatus'>, sink: LogSink, signal: AbortSignal,
): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(await realpath(path), 'r');
  } catch (err) {
    throw new Error(`failed to open log file ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
  let waiter: ChangeWaiter | undefined;
  try {
    let pos = await findTailLineStart(fh, opts.tail);
    const limited = opts.tail >= 0 && !opts.follow;
    let remainingLines = opts.tail;
    let remainingBytes = opts.bytes >= 0 ? opts.bytes : Number.POSITIVE_INFINITY;
    let pending = Buffer.alloc(0);
    let found = true;
    const buf = Buffer.alloc(READ_CHUNK);

    // Returns false when output must stop (byte limit reached).
    const emit = async (line: Buffer): Promise<boolean> => {
      const msg = parseCriLogLine(line);
      if (typeof msg === 'string') return true; // upstream skips lines it cannot parse
      if (limited) remainingLines--;
      if (msg.time.ns < opts.sinceNs) return true;
      let out = opts.timestamps ? Buffer.concat([Buffer.from(formatLogTime(msg.time) + ' '), msg.log]) : msg.log;
      if (out.length > remainingBytes) out = out.subarray(0, remainingBytes);
      remainingBytes -= out.length;
      await sink(out, msg.stream);
      return remainingBytes > 0;
    };

    for (;;) {
      if (signal.aborted || (limited && remainingLines <= 0)) return;
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        pending = pending.length === 0 ? Buffer.from(buf.subarray(0, bytesRead)) : Buffer.concat([pending, buf.subarray(0, bytesRead)]);
        let start = 0;
        for (let nl = pending.indexOf(0x0a); nl >= 0; nl = pending.indexOf(0x0a, start)) {
          if (signal.aborted || (limited && remainingLines <= 0)) return;
          if (!(await emit(pending.subarray(start, nl + 1)))) return;
          start = nl + 1;
        }
        pending = pending.subarray(start);
        continue;
      }
      // end of file
      if (!opts.follow) {
        // an incomplete last line is still shown
        if (pending.length > 0) await emit(pending);
        return;
      }
      if (!found) return;
      if (!waiter) {
        // read once more after watching, or a write between the last read and the watch is missed
        waiter = new ChangeWaiter(path);
        continue;
      }
      if (!(await isRunning(runtime, containerId))) {
        found = false; // drain what was written up to now, then stop
        continue;
      }
      await waiter.wait(signal);
    }
  } finally {
    waiter?.close();
    await fh.close();
  }
}
