// The CRI container log format as containerd writes it ("TIMESTAMP STREAM TAG CONTENT\n", TAG P for
// a partial line and F for a full one) and the pieces of upstream's log reader that are pure: line
// parsing, timestamps with nanoseconds, and finding where the last N lines of a file begin.
import type { FileHandle } from 'node:fs/promises';

/** A point in time with nanosecond precision, keeping the zone it was written in. */
export interface LogTime {
  /** Nanoseconds since the Unix epoch. */
  readonly ns: bigint;
  /** "YYYY-MM-DDTHH:MM:SS" as written (local to `zone`). */
  readonly wall: string;
  /** Nine-digit fraction of a second. */
  readonly fraction: string;
  /** "Z" or "+hh:mm"/"-hh:mm". */
  readonly zone: string;
}

/** One parsed log line. */
export interface LogMessage {
  readonly time: LogTime;
  readonly stream: 'stdout' | 'stderr';
  /** Content; a full line keeps its "\n", a partial one has none. */
  readonly log: Buffer;
}

const TIME_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** Parses RFC 3339 with an optional fraction of up to nine digits (Go's RFC3339NanoLenient); undefined when malformed. */
export function parseLogTime(text: string): LogTime | undefined {
  const m = TIME_RE.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(m[1]! + m[3]!);
  if (Number.isNaN(ms)) return undefined;
  const fraction = (m[2] ?? '').padEnd(9, '0');
  return { ns: BigInt(ms) * 1_000_000n + BigInt(fraction), wall: m[1]!, fraction, zone: m[3]! };
}

/** Formats as upstream's RFC3339NanoFixed: always nine fraction digits, the zone as written. */
export function formatLogTime(t: LogTime): string {
  return `${t.wall}.${t.fraction}${t.zone}`;
}

/** Nanoseconds since the epoch of a millisecond timestamp. */
export function msToNs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * 1_000_000n;
}

/** Parses one CRI log line (with its "\n" if it has one); a string says why it is not one. */
export function parseCriLogLine(line: Buffer): LogMessage | string {
  const sp1 = line.indexOf(0x20);
  if (sp1 < 0) return 'timestamp is not found';
  const time = parseLogTime(line.subarray(0, sp1).toString('latin1'));
  if (!time) return `unexpected timestamp format in ${JSON.stringify(line.subarray(0, sp1).toString())}`;
  const sp2 = line.indexOf(0x20, sp1 + 1);
  if (sp2 < 0) return 'stream type is not found';
  const stream = line.subarray(sp1 + 1, sp2).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return `unexpected stream type ${JSON.stringify(stream)}`;
  const sp3 = line.indexOf(0x20, sp2 + 1);
  if (sp3 < 0) return 'log tag is not found';
  // Tags are ":"-separated and only the first one is defined; later ones are for future use.
  const partial = line.subarray(sp2 + 1, sp3).toString('latin1').split(':')[0] === 'P';
  let end = line.length;
  if (partial && end > sp3 + 1 && line[end - 1] === 0x0a) end--;
  return { time, stream, log: line.subarray(sp3 + 1, end) };
}

const TAIL_BLOCK = 64 * 1024;

/**
 * The byte offset where the last `n` lines of the file begin (0 for n < 0, or when the file has
 * no more than n lines). A last line without "\n" does not count, as in upstream's tail helper.
 */
export async function findTailLineStart(fh: FileHandle, n: number): Promise<number> {
  if (n < 0) return 0;
  const size = (await fh.stat()).size;
  // Newline offsets found so far, scanning backwards; we need the (n+1)-th from the end.
  let seen = 0;
  for (let right = size; right > 0; right -= TAIL_BLOCK) {
    const left = Math.max(0, right - TAIL_BLOCK);
    const buf = Buffer.alloc(right - left);
    await fh.read(buf, 0, buf.length, left);
    for (let i = buf.length - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) continue;
      seen++;
      if (seen === n + 1) return left + i + 1;
    }
  }
  return 0;
}
