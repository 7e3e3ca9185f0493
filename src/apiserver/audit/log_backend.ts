// The audit log backend (`--audit-log-path`, `--audit-log-maxage/maxbackup/maxsize/compress`): one
// JSON event per line, rotated as lumberjack rotates kube-apiserver's log (the full file is renamed
// to <name>-<UTC time>.<ext>, old backups beyond maxbackup or maxage are removed). "-" is stdout.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { logger } from '../../base/log.ts';
import type { AuditBackend } from './auditor.ts';
import { encodeEventLine, type AuditEvent } from './event.ts';

const log = logger('audit');

const MEGABYTE = 1024 * 1024;
/** lumberjack's size limit when none is given. */
const DEFAULT_MAX_SIZE_MB = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Options of the log backend (the --audit-log-* flags). */
export interface AuditLogBackendOptions {
  /** File to write, or "-" for standard output. */
  readonly path: string;
  /** Days to keep rotated files (0: no limit). */
  readonly maxAgeDays?: number;
  /** Rotated files to keep (0: all). */
  readonly maxBackups?: number;
  /** Size in megabytes at which the file rotates (0: 100). */
  readonly maxSizeMB?: number;
  /** Gzip rotated files. */
  readonly compress?: boolean;
  /** Overrides maxSizeMB in bytes (tests). */
  readonly maxSizeBytes?: number;
  /** Clock for backup names and ages (tests). */
  readonly now?: () => Date;
  /** Where "-" writes (default process.stdout). */
  readonly stdout?: { write(text: string): unknown };
}

/** Fails like kube-apiserver's flag validation, naming the flag and the value. */
export function validateAuditLogOptions(o: AuditLogBackendOptions): void {
  if (o.path === '') throw new Error('--audit-log-path must not be empty');
  const checks: Array<[string, number | undefined]> = [
    ['--audit-log-maxage', o.maxAgeDays], ['--audit-log-maxbackup', o.maxBackups], ['--audit-log-maxsize', o.maxSizeMB],
  ];
  for (const [flag, v] of checks) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new Error(`${flag} ${v} can't be a negative number`);
  }
}

/** lumberjack's backup time format, 2006-01-02T15-04-05.000, in UTC. */
function backupTimestamp(d: Date): string {
  return d.toISOString().slice(0, 23).replace(/:/g, '-');
}

function parseBackupTimestamp(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/.exec(s);
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
  return Number.isNaN(t) ? undefined : t;
}

/** Writes events as JSON lines; buffered, flushed soon after each batch and on dispose. */
export class AuditLogBackend implements AuditBackend {
  readonly #opts: AuditLogBackendOptions;
  readonly #max: number;
  readonly #now: () => Date;
  #queue: string[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  #writing: Promise<void> = Promise.resolve();
  #file: FileHandle | undefined;
  #size = 0;
  #disposed = false;

  constructor(opts: AuditLogBackendOptions) {
    validateAuditLogOptions(opts);
    this.#opts = opts;
    this.#max = opts.maxSizeBytes ?? (opts.maxSizeMB && opts.maxSizeMB > 0 ? opts.maxSizeMB : DEFAULT_MAX_SIZE_MB) * MEGABYTE;
    this.#now = opts.now ?? (() => new Date());
    if (opts.path !== '-') {
      // Fail at startup, not at the first request, when the file cannot be created (ensureLogFile).
      mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
      closeSync(openSync(opts.path, 'a', 0o600));
    }
  }

  processEvents(...events: AuditEvent[]): void {
    if (this.#disposed) {
      log.warn('audit event after the log backend was disposed', { count: events.length });
      return;
    }
    for (const ev of events) this.#queue.push(encodeEventLine(ev));
    this.#scheduled ??= setImmediate(() => {
      this.#scheduled = undefined;
      void this.flush();
    });
  }

  /** Resolves once every event processed so far is written. */
  flush(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#drain()).catch((err: unknown) => {
      log.error('writing the audit log failed', { path: this.#opts.path, err: err instanceof Error ? err.message : String(err) });
    });
    return this.#writing;
  }

  /** Writes what is queued and closes the file. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    await this.flush();
    const f = this.#file;
    this.#file = undefined;
    await f?.close();
  }

  async #drain(): Promise<void> {
    const lines = this.#queue;
    this.#queue = [];
    if (lines.length === 0) return;
    if (this.#opts.path === '-') {
      (this.#opts.stdout ?? process.stdout).write(lines.join(''));
      return;
    }
    let batch: Buffer[] = [];
    let batchSize = 0;
    const writeBatch = async (): Promise<void> => {
      if (batch.length === 0) return;
      await writeAll(this.#file!, Buffer.concat(batch));
      this.#size += batchSize;
      batch = [];
      batchSize = 0;
    };
    for (const line of lines) {
      const buf = Buffer.from(line);
      if (buf.length > this.#max) {
        log.error('audit event dropped', { err: `write length ${buf.length} exceeds maximum file size ${this.#max}` });
        continue;
      }
      if (!this.#file) await this.#openExistingOrNew(buf.length);
      else if (this.#size + batchSize + buf.length > this.#max) {
        await writeBatch();
        await this.#rotate();
      }
      batch.push(buf);
      batchSize += buf.length;
    }
    await writeBatch();
  }

  async #openExistingOrNew(writeLen: number): Promise<void> {
    await this.#mill();
    let size: number;
    try {
      size = (await stat(this.#opts.path)).size;
    } catch {
      await this.#openNew();
      return;
    }
    if (size + writeLen >= this.#max) {
      await this.#rotate();
      return;
    }
    try {
      this.#file = await open(this.#opts.path, 'a');
      this.#size = size;
    } catch {
      await this.#openNew();
    }
  }

  async #rotate(): Promise<void> {
    const f = this.#file;
    this.#file = undefined;
    await f?.close();
    await this.#openNew();
    await this.#mill();
  }

  async #openNew(): Promise<void> {
    const path = this.#opts.path;
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    let mode = 0o600;
    try {
      const st = await stat(path);
      mode = st.mode & 0o777;
      await rename(path, await this.#freeBackupName());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.#file = await open(path, 'w', mode);
    this.#size = 0;
  }

  async #freeBackupName(): Promise<string> {
    const path = this.#opts.path;
    const ext = extname(path);
    const prefix = basename(path, ext);
    // Two rotations within one millisecond would share a name; step on instead of overwriting.
    for (let t = this.#now().getTime(); ; t++) {
      const candidate = join(dirname(path), `${prefix}-${backupTimestamp(new Date(t))}${ext}`);
      try {
        await stat(candidate);
      } catch {
        try {
          await stat(`${candidate}.gz`);
        } catch {
          return candidate;
        }
      }
    }
  }

  /** Removes backups beyond maxBackups and older than maxAge, then compresses the rest (millRunOnce). */
  async #mill(): Promise<void> {
    const { maxBackups = 0, maxAgeDays = 0, compress = false } = this.#opts;
    if (maxBackups === 0 && maxAgeDays === 0 && !compress) return;
    const dir = dirname(this.#opts.path);
    const ext = extname(this.#opts.path);
    const prefix = `${basename(this.#opts.path, ext)}-`;
    const backups: Array<{ name: string; time: number }> = [];
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      if (!ent.isFile() || !ent.name.startsWith(prefix)) continue;
      const plain = ent.name.endsWith('.gz') ? ent.name.slice(0, -3) : ent.name;
      if (!plain.endsWith(ext)) continue;
      const time = parseBackupTimestamp(plain.slice(prefix.length, plain.length - ext.length));
      if (time !== undefined) backups.push({ name: ent.name, time });
    }
    backups.sort((a, b) => b.time - a.time);
    const remove = new Set<string>();
    if (maxBackups > 0) {
      const kept = new Set<string>();
      for (const b of backups) {
        const plain = b.name.replace(/\.gz$/, '');
        kept.add(plain);
        if (kept.size > maxBackups) remove.add(b.name);
      }
    }
    if (maxAgeDays > 0) {
      const cutoff = this.#now().getTime() - maxAgeDays * DAY_MS;
      for (const b of backups) if (b.time < cutoff) remove.add(b.name);
    }
    for (const name of remove) await unlink(join(dir, name)).catch(() => undefined);
    if (compress) {
      for (const b of backups) {
        if (remove.has(b.name) || b.name.endsWith('.gz')) continue;
        const src = join(dir, b.name);
        const st = await stat(src);
        await writeFile(`${src}.gz`, gzipSync(await readFile(src)), { mode: st.mode & 0o777 });
        await unlink(src);
      }
    }
  }
}

async function writeAll(f: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await f.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}
