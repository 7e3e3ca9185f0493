// The busybox image tkube builds from Debian's busybox-static for tests and offline users:
// the static binary, one symlink per applet at the path `busybox --list-full` gives, /etc/passwd
// and /etc/group with root and nobody, and a sticky /tmp. scripts/build_test_image.ts writes it out.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { buildOciArchive, type OciArchive } from './oci_image.ts';
import type { TarEntry } from './tar.ts';

/** The name tests and docs use for the busybox image. */
export const TEST_IMAGE = 'tkube.local/busybox:stable';
/** Where Debian's busybox-static puts the binary. */
export const DEFAULT_BUSYBOX = '/bin/busybox';

/** Options of buildBusyboxImage. */
export interface BusyboxImageOptions {
  /** Image name (default TEST_IMAGE). */
  readonly name?: string;
  /** A statically linked busybox (default /bin/busybox). */
  readonly binary?: string;
}

/** Reads a static busybox, failing with a hint when it is missing or dynamically linked. */
export function readBusybox(binary: string = DEFAULT_BUSYBOX): Buffer {
  if (!existsSync(binary)) throw new Error(`busybox not found at ${binary}: install Debian's busybox-static`);
  const data = readFileSync(binary);
  // A dynamic ELF has a PT_INTERP program header; inside an empty image it could not start.
  if (data.includes(Buffer.from('/lib64/ld-linux')) || data.includes(Buffer.from('/lib/ld-linux'))) {
    throw new Error(`${binary} is dynamically linked: install Debian's busybox-static`);
  }
  return data;
}

/** The applet paths busybox itself reports ("bin/sh", "usr/bin/wget", ...). */
export function busyboxApplets(binary: string = DEFAULT_BUSYBOX): string[] {
  const out = execFileSync(binary, ['--list-full'], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim()).filter((l) => l && !l.endsWith('/busybox'));
}

/** Directories every image of ours has; /tmp is world-writable and sticky. */
function baseDirs(): TarEntry[] {
  return [
    { name: 'bin/', type: 'dir' },
    { name: 'dev/', type: 'dir' },
    { name: 'etc/', type: 'dir' },
    { name: 'home/', type: 'dir' },
    { name: 'proc/', type: 'dir' },
    { name: 'root/', type: 'dir', mode: 0o700 },
    { name: 'sbin/', type: 'dir' },
    { name: 'sys/', type: 'dir' },
    { name: 'tmp/', type: 'dir', mode: 0o1777 },
    { name: 'usr/', type: 'dir' },
    { name: 'usr/bin/', type: 'dir' },
    { name: 'usr/sbin/', type: 'dir' },
    { name: 'var/', type: 'dir' },
    { name: 'var/tmp/', type: 'dir', mode: 0o1777 },
  ];
}

function etcFiles(): TarEntry[] {
  const text = (s: string): Uint8Array => Buffer.from(s);
  return [
    { name: 'etc/passwd', type: 'file', data: text('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n') },
    { name: 'etc/group', type: 'file', data: text('root:x:0:\nnogroup:x:65534:\n') },
  ];
}

/** The root filesystem of the busybox image. */
export function busyboxFiles(binary: string = DEFAULT_BUSYBOX): TarEntry[] {
  const files: TarEntry[] = [...baseDirs(), ...etcFiles()];
  files.push({ name: 'bin/busybox', type: 'file', mode: 0o755, data: readBusybox(binary) });
  const seen = new Set(files.map((f) => f.name.replace(/\/$/, '')));
  for (const applet of busyboxApplets(binary)) {
    if (seen.has(applet)) continue;
    seen.add(applet);
    files.push({ name: applet, type: 'symlink', linkname: '/bin/busybox' });
  }
  return files;
}

/** Builds the busybox image as an OCI archive. */
export function buildBusyboxImage(opts: BusyboxImageOptions = {}): OciArchive {
  return buildOciArchive({
    name: opts.name ?? TEST_IMAGE,
    files: busyboxFiles(opts.binary),
    cmd: ['sh'],
  });
}

/** A minimal rootfs with busybox and the two applets the busybox pause variant runs. */
export function busyboxPauseFiles(binary: string = DEFAULT_BUSYBOX): TarEntry[] {
  return [
    { name: 'bin/', type: 'dir' },
    { name: 'bin/busybox', type: 'file', mode: 0o755, data: readBusybox(binary) },
    { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
    { name: 'bin/sleep', type: 'symlink', linkname: '/bin/busybox' },
    { name: 'dev/', type: 'dir' },
    { name: 'proc/', type: 'dir' },
    { name: 'sys/', type: 'dir' },
  ];
}
