// Image commands over the node's containerd (namespace k8s.io, where the CRI plugin looks): import
// OCI-layout or docker-save archives through `ctr images import`, list and remove through the CRI
// image service. Names come from the archive itself; `tkube image import|ls|rm` wrap these.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { CriClient } from '../kubelet/cri/client.ts';
import type { Image } from '../kubelet/cri/messages.ts';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME } from './oci_image.ts';
import { readTarMembers } from './tar.ts';

/** Where the images live. */
export interface ImageCommandOptions {
  /** containerd's socket (containerdPaths(dataDir).socket). */
  readonly socket: string;
  /** containerd namespace (default "k8s.io", the CRI plugin's). */
  readonly namespace?: string;
  /** The ctr binary (default /usr/bin/ctr). */
  readonly ctr?: string;
  /** Deadline of one command (default 5 min: archives can be large). */
  readonly timeoutMs?: number;
}

/** Options of importImage. */
export interface ImportOptions extends ImageCommandOptions {
  /** Repository for manifests an OCI archive names only by tag ("v1" -> BASE:v1). */
  readonly baseName?: string;
}

/** One image as `tkube image ls` shows it. */
export interface ImageInfo {
  /** Image ID (config digest). */
  readonly id: string;
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
  readonly size: number;
}

/**
 * Normalizes a reference the way docker and containerd do: "busybox" ->
 * "docker.io/library/busybox:latest", "me/app" -> "docker.io/me/app:latest".
 */
export function normalizeImageName(ref: string): string {
  if (ref.startsWith('sha256:')) return ref;
  let name = ref;
  const firstSlash = name.indexOf('/');
  const first = firstSlash === -1 ? '' : name.slice(0, firstSlash);
  if (firstSlash === -1) name = `docker.io/library/${name}`;
  else if (!(first.includes('.') || first.includes(':') || first === 'localhost')) name = `docker.io/${name}`;
  const lastSlash = name.lastIndexOf('/');
  const tail = name.slice(lastSlash + 1);
  if (!tail.includes(':') && !tail.includes('@')) name += ':latest';
  return name;
}

function isFullReference(ref: string): boolean {
  return /[/:@]/.test(ref);
}

async function openArchive(file: string): Promise<Readable> {
  const fh = await open(file, 'r');
  const magic = Buffer.alloc(2);
  try {
    await fh.read(magic, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const raw = createReadStream(file);
  return magic[0] === 0x1f && magic[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
}

/** What an archive says about its images. */
export interface ArchiveNames {
  readonly format: 'oci' | 'docker';
  /** Full, normalized names. */
  readonly names: string[];
  /** Tags of OCI manifests named only by tag (they need a base name). */
  readonly bareTags: string[];
}

/** Reads the image names an OCI layout or docker-save archive declares. */
export async function archiveImageNames(file: string): Promise<ArchiveNames> {
  const members = await readTarMembers(await openArchive(file), (n) => n === 'index.json' || n === 'manifest.json');
  const parse = (n: string): unknown => {
    try {
      return JSON.parse(members.get(n)!.toString('utf8'));
    } catch (err) {
      throw new Error(`${file}: ${n} is not JSON: ${(err as Error).message}`);
    }
  };
  const names = new Set<string>();
  const bareTags: string[] = [];
  if (members.has('index.json')) {
    const index = parse('index.json') as { manifests?: { annotations?: Record<string, string> }[] };
    for (const m of index.manifests ?? []) {
      const full = m.annotations?.[ANNOTATION_IMAGE_NAME];
      const ref = m.annotations?.[ANNOTATION_REF_NAME];
      if (full) names.add(normalizeImageName(full));
      else if (ref && isFullReference(ref)) names.add(normalizeImageName(ref));
      else if (ref) bareTags.push(ref);
    }
    return { format: 'oci', names: [...names], bareTags };
  }
  if (members.has('manifest.json')) {
    const manifest = parse('manifest.json') as { RepoTags?: string[] | null }[];
    for (const m of Array.isArray(manifest) ? manifest : []) {
      for (const t of m.RepoTags ?? []) names.add(normalizeImageName(t));
    }
    return { format: 'docker', names: [...names], bareTags };
  }
  throw new Error(`${file}: neither an OCI image layout (index.json) nor a docker-save archive (manifest.json)`);
}

/** Runs ctr against our containerd, feeding it `stdin` if given; rejects with ctr's own message. */
function runCtr(opts: ImageCommandOptions, args: string[], stdin?: Readable): Promise<string> {
  const ctr = opts.ctr ?? '/usr/bin/ctr';
  const full = ['--address', opts.socket, '--namespace', opts.namespace ?? 'k8s.io', ...args];
  const what = `ctr ${args.slice(0, 2).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(ctr, full, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 300_000 });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    let inputError: Error | undefined;
    if (stdin && child.stdin) {
      stdin.once('error', (err) => {
        inputError = err;
        child.kill('SIGKILL');
      });
      child.stdin.once('error', () => { /* ctr quit early; its exit status says why */ });
      stdin.pipe(child.stdin);
    }
    child.once('error', (err) => reject(new Error(`${what}: ${err.message}`)));
    child.once('close', (code, signal) => {
      stdin?.destroy();
      if (inputError) reject(new Error(`${what}: reading the archive: ${inputError.message}`));
      else if (code === 0) resolve(stdout);
      else reject(new Error(`${what}: ${stderr.trim().replace(/^ctr: /, '') || `exit ${code ?? signal}`}`));
    });
  });
}

async function withCri<T>(opts: ImageCommandOptions, fn: (cri: CriClient) => Promise<T>): Promise<T> {
  const cri = new CriClient(opts.socket, { timeoutMs: 30_000 });
  try {
    return await fn(cri);
  } finally {
    cri.close();
  }
}

/**
 * Imports an archive (OCI image layout or docker save, optionally gzipped) and returns the names
 * it now has; resolves once the CRI image service sees every one of them.
 */
export async function importImage(file: string, opts: ImportOptions): Promise<string[]> {
  const declared = await archiveImageNames(file);
  const names = [...declared.names];
  if (declared.bareTags.length > 0) {
    if (!opts.baseName) {
      throw new Error(`${file}: manifests named only by tag (${declared.bareTags.join(', ')}); give a repository name (--base-name)`);
    }
    for (const t of declared.bareTags) names.push(normalizeImageName(`${opts.baseName}:${t}`));
  }
  if (names.length === 0) throw new Error(`${file}: the archive names no image (no ${ANNOTATION_IMAGE_NAME}/${ANNOTATION_REF_NAME} annotation, no RepoTags)`);
  const args = ['images', 'import', '--snapshotter', 'overlayfs'];
  if (opts.baseName) args.push('--base-name', opts.baseName);
  // ctr reads only plain tar: a gzipped archive is unpacked on the way in through stdin
  await runCtr(opts, [...args, '-'], await openArchive(file));
  // The CRI plugin learns about imports from containerd's event stream, a moment later.
  await withCri(opts, async (cri) => {
    const deadline = Date.now() + 10_000;
    for (const name of names) {
      for (;;) {
        if ((await cri.imageStatus({ image: name })).image) break;
        if (Date.now() > deadline) throw new Error(`imported ${file}, but the CRI image service does not show ${name}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  return names;
}

/** Lists the images the CRI image service knows, sorted by first tag. */
export async function listImages(opts: ImageCommandOptions): Promise<ImageInfo[]> {
  const images: Image[] = await withCri(opts, (cri) => cri.listImages());
  const key = (i: ImageInfo): string => i.repoTags[0] ?? i.repoDigests[0] ?? i.id;
  return images
    .map((i): ImageInfo => ({ id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, size: i.size }))
    .sort((a, b) => key(a).localeCompare(key(b)));
}

/**
 * Removes a name (docker's `rmi` semantics): the tag goes; the image itself goes with its last tag.
 * An image ID ("sha256:...") removes the image with all its names. Unknown names fail.
 */
export async function removeImage(ref: string, opts: ImageCommandOptions): Promise<void> {
  const name = normalizeImageName(ref);
  await withCri(opts, async (cri) => {
    const status = await cri.imageStatus({ image: name });
    if (!status.image) throw new Error(`image ${JSON.stringify(ref)} not found`);
    const img = status.image;
    if (name.startsWith('sha256:') || img.repoTags.length <= 1) {
      await cri.removeImage({ image: img.id });
      return;
    }
    await runCtr(opts, ['images', 'rm', name]);
  });
}

function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v}B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[u]}`;
}

/** A table like `crictl images`: IMAGE, TAG, IMAGE ID (13 chars), SIZE. */
export function formatImageList(images: readonly ImageInfo[]): string {
  const rows = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']];
  for (const i of images) {
    const id = i.id.replace(/^sha256:/, '').slice(0, 13);
    const tags = i.repoTags.length > 0 ? i.repoTags : ['<none>:<none>'];
    for (const t of tags) {
      const colon = t.lastIndexOf(':');
      rows.push([t.slice(0, colon), t.slice(colon + 1), id, humanSize(i.size)]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] + 3))).join('')).join('\n') + '\n';
}
