// A tiny read-only OCI distribution registry for tests, on 127.0.0.1 over plain HTTP: serves the
// manifests and blobs of OCI archives (agent/oci_image.ts) under the names and tags it is given,
// optionally behind Basic auth, and records every request so tests can count pulls.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { Disposable } from '../base/disposable.ts';
import { readTarMembers } from '../agent/tar.ts';

/** One image the registry serves. */
export interface TestRegistryImage {
  /** Repository name, e.g. "busybox" or "team/app". */
  readonly name: string;
  readonly tag: string;
  /** An OCI image layout archive with one manifest (buildOciArchive, buildBusyboxImage). */
  readonly archive: Buffer;
}

/** Options of startTestRegistry. */
export interface TestRegistryOptions {
  readonly images: readonly TestRegistryImage[];
  /** Require these Basic credentials on every request (401 with a Basic challenge otherwise). */
  readonly auth?: { readonly username: string; readonly password: string };
  /** The challenge's realm (default "tkube-test-registry"). */
  readonly realm?: string;
}

/** One request the registry answered. */
export interface TestRegistryRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The Basic user name sent, if any. */
  readonly user?: string;
}

/** A running registry; stop() (or dispose()) closes it and its connections. */
export interface TestRegistry extends Disposable {
  /** "127.0.0.1:PORT", the host part of image references. */
  readonly host: string;
  readonly port: number;
  readonly requests: readonly TestRegistryRequest[];
  /** How many requests with this method had a path starting with `prefix` and this status (default any). */
  count(method: string, prefix: string, status?: number): number;
  stop(): Promise<void>;
}

interface Manifest {
  readonly mediaType: string;
  readonly digest: string;
  readonly body: Buffer;
}

/** Reads the archive's index, its one manifest and every blob. */
async function loadArchive(archive: Buffer): Promise<{ manifest: Manifest; blobs: Map<string, Buffer> }> {
  const members = await readTarMembers(Readable.from([archive]), (n) => n === 'index.json' || n.startsWith('blobs/sha256/'));
  const index = JSON.parse(members.get('index.json')?.toString('utf8') ?? 'null') as { manifests?: { digest: string; mediaType: string }[] } | null;
  const entry = index?.manifests?.[0];
  if (!entry) throw new Error('test registry: the archive has no index.json manifest');
  const blobs = new Map<string, Buffer>();
  for (const [name, data] of members) {
    if (name.startsWith('blobs/sha256/')) blobs.set(`sha256:${name.slice('blobs/sha256/'.length)}`, data);
  }
  const body = blobs.get(entry.digest);
  if (!body) throw new Error(`test registry: manifest blob ${entry.digest} missing from the archive`);
  return { manifest: { mediaType: entry.mediaType, digest: entry.digest, body }, blobs };
}

function basicUser(req: IncomingMessage): { user: string; password: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message, detail: null }] });
}

/** Starts the registry on 127.0.0.1 (a free port). */
export async function startTestRegistry(opts: TestRegistryOptions): Promise<TestRegistry> {
  // repository -> tag or digest -> manifest; all blobs in one digest-addressed store
  const manifests = new Map<string, Map<string, Manifest>>();
  const blobs = new Map<string, Buffer>();
  for (const img of opts.images) {
    const loaded = await loadArchive(img.archive);
    const refs = manifests.get(img.name) ?? new Map<string, Manifest>();
    refs.set(img.tag, loaded.manifest);
    refs.set(loaded.manifest.digest, loaded.manifest);
    manifests.set(img.name, refs);
    for (const [d, b] of loaded.blobs) blobs.set(d, b);
  }
  const requests: TestRegistryRequest[] = [];
  const realm = opts.realm ?? 'tkube-test-registry';

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const creds = basicUser(req);
    const send = (status: number, headers: Record<string, string | number>, body: Buffer | string = ''): void => {
      requests.push({ method, path, status, ...(creds ? { user: creds.user } : {}) });
      const data = typeof body === 'string' ? Buffer.from(body) : body;
      res.writeHead(status, { 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Length': data.length, ...headers });
      res.end(method === 'HEAD' ? undefined : data);
    };
    const json = { 'Content-Type': 'application/json' };
    if (method !== 'GET' && method !== 'HEAD') {
      send(405, json, errorBody('UNSUPPORTED', 'this registry is read-only'));
      return;
    }
    if (opts.auth && (!creds || creds.user !== opts.auth.username || creds.password !== opts.auth.password)) {
      send(401, { ...json, 'WWW-Authenticate': `Basic realm="${realm}"` }, errorBody('UNAUTHORIZED', 'authentication required'));
      return;
    }
    if (path === '/v2/' || path === '/v2') {
      send(200, json, '{}');
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    if (!m) {
      send(404, json, errorBody('NOT_FOUND', 'not found'));
      return;
    }
    const [, name, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      const man = manifests.get(name)?.get(decodeURIComponent(ref));
      if (!man) {
        send(404, json, errorBody(manifests.has(name) ? 'MANIFEST_UNKNOWN' : 'NAME_UNKNOWN', manifests.has(name) ? 'manifest unknown' : 'repository name not known to registry'));
        return;
      }
      send(200, { 'Content-Type': man.mediaType, 'Docker-Content-Digest': man.digest }, man.body);
      return;
    }
    const blob = manifests.has(name) ? blobs.get(decodeURIComponent(ref)) : undefined;
    if (!blob) {
      send(404, json, errorBody('BLOB_UNKNOWN', 'blob unknown to registry'));
      return;
    }
    send(200, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': decodeURIComponent(ref) }, blob);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // containerd keeps connections alive between pulls
      server.closeAllConnections();
    });
    return stopped;
  };
  return {
    host: `127.0.0.1:${port}`, port, requests, stop, dispose: stop,
    count: (method, prefix, status) => requests.filter((r) => r.method === method && r.path.startsWith(prefix) && (status === undefined || r.status === status)).length,
  };
}
