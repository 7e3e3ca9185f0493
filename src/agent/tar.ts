// Just enough tar for image archives: a deterministic ustar writer (files, directories, symlinks,
// PAX records for long names) used to build OCI layers and layouts, and a streaming reader that
// pulls a few small members (index.json, manifest.json) out of archives of any size.
import type { Readable } from 'node:stream';

/** One member of an archive to write. */
export interface TarEntry {
  /** Path inside the archive, without a leading "/" ("bin/sh", "etc/"). */
  readonly name: string;
  readonly type: 'file' | 'dir' | 'symlink';
  /** Permission bits (default 0o644 for files, 0o755 for directories, 0o777 for symlinks). */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** File contents (files only). */
  readonly data?: Uint8Array;
  /** Symlink target (symlinks only). */
  readonly linkname?: string;
}

const BLOCK = 512;
const TYPE_FLAG = { file: '0', symlink: '2', dir: '5' } as const;

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  const s = value.toString(8);
  if (s.length > width - 1) throw new Error(`tar: value ${value} does not fit in ${width - 1} octal digits`);
  return s.padStart(width - 1, '0') + '\0';
}

function header(name: string, type: string, size: number, mode: number, uid: number, gid: number, linkname: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(uid, 8), 108, 'ascii');
  h.write(octal(gid, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii'); // mtime 0: identical input, identical digest
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

function pad(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

function paxRecord(key: string, value: string): string {
  // "<len> <key>=<value>\n" where len counts the whole record including its own digits
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len++;
  return `${len}${body}`;
}

/** Serializes entries into a tar archive (ustar, PAX records when a name is too long). */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    let name = e.name.replace(/^\/+/, '');
    if (e.type === 'dir' && !name.endsWith('/')) name += '/';
    const linkname = e.type === 'symlink' ? (e.linkname ?? '') : '';
    if (e.type === 'symlink' && !linkname) throw new Error(`tar: symlink ${name} has no target`);
    const data = e.type === 'file' ? Buffer.from(e.data ?? new Uint8Array()) : Buffer.alloc(0);
    let pax = '';
    if (Buffer.byteLength(name) > 100) pax += paxRecord('path', name);
    if (Buffer.byteLength(linkname) > 100) pax += paxRecord('linkpath', linkname);
    if (pax) {
      const body = Buffer.from(pax);
      parts.push(header('PaxHeader', 'x', body.length, 0o644, 0, 0, ''), body, pad(body.length));
    }
    const defMode = e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644;
    parts.push(header(name, TYPE_FLAG[e.type], data.length, e.mode ?? defMode, e.uid ?? 0, e.gid ?? 0, linkname));
    if (data.length > 0) parts.push(data, pad(data.length));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function cString(buf: Buffer, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

function parseOctal(buf: Buffer, start: number, len: number): number {
  const s = cString(buf, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp === -1) break;
    const len = parseInt(body.subarray(i, sp).toString('ascii'), 10);
    if (!(len > 0)) break;
    const rec = body.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/** Normalizes a member name: no leading "./" or "/". */
export function normalizeTarName(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '');
}

/**
 * Reads a tar stream and returns the contents of the regular files whose (normalized) names
 * `want` accepts; everything else is skipped without being buffered.
 */
export async function readTarMembers(stream: Readable, want: (name: string) => boolean): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  let buf: Buffer = Buffer.alloc(0);
  let ended = false;
  // Parser state: waiting for a header, or inside a member's data (+ padding).
  let remaining = 0; // data bytes of the current member still to come
  let padding = 0;
  let collect: Buffer[] | undefined;
  let current = '';
  let currentType = '';
  let nextName: string | undefined; // from a PAX 'x' or GNU 'L' record

  const finishMember = (): void => {
    const body = collect ? Buffer.concat(collect) : undefined;
    collect = undefined;
    if (currentType === 'x' && body) {
      const path = parsePax(body).get('path');
      if (path !== undefined) nextName = path;
    } else if (currentType === 'L' && body) {
      nextName = cString(body, 0, body.length);
    } else if (body) {
      found.set(current, body);
    }
  };

  for await (const chunk of stream) {
    buf = buf.length ? Buffer.concat([buf, chunk as Buffer]) : (chunk as Buffer);
    for (;;) {
      if (remaining > 0) {
        const n = Math.min(remaining, buf.length);
        if (n === 0) break;
        if (collect) collect.push(buf.subarray(0, n));
        buf = buf.subarray(n);
        remaining -= n;
        if (remaining === 0) finishMember();
        continue;
      }
      if (padding > 0) {
        const n = Math.min(padding, buf.length);
        if (n === 0) break;
        buf = buf.subarray(n);
        padding -= n;
        continue;
      }
      if (buf.length < BLOCK) break;
      const h = buf.subarray(0, BLOCK);
      buf = buf.subarray(BLOCK);
      if (h.every((b) => b === 0)) {
        ended = true;
        break;
      }
      const type = String.fromCharCode(h[156] || 0x30);
      const size = parseOctal(h, 124, 12);
      let name = cString(h, 0, 100);
      const prefix = h.subarray(257, 262).toString('ascii') === 'ustar' ? cString(h, 345, 155) : '';
      if (prefix) name = `${prefix}/${name}`;
      if (type !== 'x' && type !== 'L' && type !== 'g') {
        if (nextName !== undefined) name = nextName;
        nextName = undefined;
      }
      current = normalizeTarName(name);
      currentType = type;
      const isFile = type === '0' || type === '\0' || type === '7';
      collect = type === 'x' || type === 'L' || (isFile && want(current)) ? [] : undefined;
      remaining = size;
      padding = size % BLOCK === 0 ? 0 : BLOCK - (size % BLOCK);
      if (size === 0) finishMember();
    }
    if (ended) break;
  }
  if (!ended && (remaining > 0 || padding > 0 || buf.length > 0)) throw new Error('tar: archive is truncated');
  stream.destroy();
  return found;
}
