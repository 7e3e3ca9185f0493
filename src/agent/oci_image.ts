// Builds single-platform OCI image layout archives (oci-layout, index.json, blobs/sha256/*) from
// in-memory files, deterministically, for the images tkube makes itself: the pause image and the
// busybox test image. The archive is what `ctr images import` and `tkube image import` accept.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { writeTar, type TarEntry } from './tar.ts';

export const MEDIA_TYPE = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** containerd's annotation carrying the full image name; ctr import names images after it. */
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
/** The OCI annotation naming a manifest in an index (a tag, or a full reference). */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/** What to build. */
export interface OciImageSpec {
  /** Full reference, e.g. "tkube.local/busybox:latest". */
  readonly name: string;
  /** The root filesystem, as one layer. */
  readonly files: readonly TarEntry[];
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly workingDir?: string;
  readonly user?: string;
  /** OCI architecture (default: this machine's). */
  readonly architecture?: string;
}

/** A built archive and the digests that identify it. */
export interface OciArchive {
  readonly tar: Buffer;
  readonly manifestDigest: string;
  /** The config digest: the image ID containerd's CRI reports. */
  readonly configDigest: string;
}

/** This machine's architecture in OCI terms. */
export function ociArchitecture(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const a = map[arch];
  if (!a) throw new Error(`no OCI architecture known for node arch ${arch}`);
  return a;
}

function sha256(data: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Splits "host/repo:tag" into its tag ("latest" when none is given). */
function tagOf(name: string): string {
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > lastSlash ? name.slice(colon + 1) : 'latest';
}

/** Builds the OCI layout archive of one image. */
export function buildOciArchive(spec: OciImageSpec): OciArchive {
  if (!/^[a-z0-9]/.test(spec.name) || /\s/.test(spec.name)) throw new Error(`OciImageSpec.name: invalid image name ${JSON.stringify(spec.name)}`);
  const layerTar = writeTar(spec.files);
  // level 9 + mtime 0 in the gzip header (zlib's default) keep the digest stable across builds
  const layerGz = gzipSync(layerTar, { level: 9 });
  const config = {
    created: '1970-01-01T00:00:00Z',
    architecture: spec.architecture ?? ociArchitecture(),
    os: 'linux',
    config: {
      ...(spec.user ? { User: spec.user } : {}),
      Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'tkube' }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.manifest,
    config: { mediaType: MEDIA_TYPE.config, digest: sha256(configBytes), size: configBytes.length },
    layers: [{ mediaType: MEDIA_TYPE.layerGzip, digest: sha256(layerGz), size: layerGz.length }],
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = sha256(manifestBytes);
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.index,
    manifests: [{
      mediaType: MEDIA_TYPE.manifest,
      digest: manifestDigest,
      size: manifestBytes.length,
      annotations: { [ANNOTATION_IMAGE_NAME]: spec.name, [ANNOTATION_REF_NAME]: tagOf(spec.name) },
      platform: { architecture: config.architecture, os: 'linux' },
    }],
  };
  const blob = (data: Buffer): TarEntry => ({ name: `blobs/sha256/${sha256(data).slice(7)}`, type: 'file', data });
  const tar = writeTar([
    { name: 'oci-layout', type: 'file', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { name: 'index.json', type: 'file', data: Buffer.from(JSON.stringify(index)) },
    { name: 'blobs/', type: 'dir' },
    { name: 'blobs/sha256/', type: 'dir' },
    blob(configBytes),
    blob(manifestBytes),
    blob(layerGz),
  ]);
  return { tar, manifestDigest, configDigest: sha256(configBytes) };
}
