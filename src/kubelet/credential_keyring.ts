// Registry credentials from a pod's imagePullSecrets (pkg/credentialprovider): docker config
// secrets become a keyring indexed by registry host and path prefix, and an image looks up every
// credential whose key matches it, the most specific key first.
import type { Secret } from '../api/types/core_v1.ts';
import type { AuthConfig } from './cri/messages.ts';

export const SecretTypeDockerConfigJson = 'kubernetes.io/dockerconfigjson';
export const SecretTypeDockercfg = 'kubernetes.io/dockercfg';
export const DockerConfigJsonKey = '.dockerconfigjson';
export const DockerConfigKey = '.dockercfg';

/** One registry's entry of a docker config, the `auth` field already decoded into username/password. */
export interface DockerConfigEntry {
  readonly username: string;
  readonly password: string;
  readonly email?: string;
  readonly identityToken?: string;
  readonly registryToken?: string;
}

/** Registry location ("https://index.docker.io/v1/", "quay.io/org", "*.example.com") to its entry. */
export type DockerConfig = ReadonlyMap<string, DockerConfigEntry>;

/** The docker config's `auth` field: base64 of "username:password". */
function decodeAuthField(field: string): { username: string; password: string } {
  const text = Buffer.from(field, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) throw new Error('unable to parse auth field, must be formatted as base64(username:password)');
  return { username: text.slice(0, colon), password: text.slice(colon + 1).replace(/\0+$/, '') };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Parses the entries object of a .dockercfg, or the `auths` of a .dockerconfigjson. */
export function parseDockerConfigEntries(auths: unknown): DockerConfig {
  const out = new Map<string, DockerConfigEntry>();
  if (auths === null || auths === undefined) return out;
  if (typeof auths !== 'object' || Array.isArray(auths)) throw new Error('json: cannot unmarshal into Go value of type credentialprovider.DockerConfig');
  for (const [loc, raw] of Object.entries(auths as Record<string, unknown>)) {
    const e = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    let username = str(e['username']);
    let password = str(e['password']);
    const auth = str(e['auth']);
    if (auth !== '') ({ username, password } = decodeAuthField(auth));
    const entry: DockerConfigEntry = {
      username, password,
      ...(str(e['email']) ? { email: str(e['email']) } : {}),
      ...(str(e['identitytoken']) ? { identityToken: str(e['identitytoken']) } : {}),
      ...(str(e['registrytoken']) ? { registryToken: str(e['registrytoken']) } : {}),
    };
    out.set(loc, entry);
  }
  return out;
}

function secretBytes(secret: Secret, key: string): string | undefined {
  const b64 = secret.data?.[key];
  if (b64 !== undefined && b64 !== '') return Buffer.from(String(b64), 'base64').toString('utf8');
  const plain = secret.stringData?.[key];
  return plain !== undefined && plain !== '' ? String(plain) : undefined;
}

/**
 * The docker config a pull secret holds, or undefined when it is not a docker config secret of its
 * declared type. Malformed JSON or a bad `auth` field throws, as upstream fails the pull then.
 */
export function dockerConfigOfSecret(secret: Secret): DockerConfig | undefined {
  if (secret.type === SecretTypeDockerConfigJson) {
    const text = secretBytes(secret, DockerConfigJsonKey);
    if (text === undefined) return undefined;
    const doc = JSON.parse(text) as unknown;
    const auths = doc && typeof doc === 'object' ? (doc as Record<string, unknown>)['auths'] : undefined;
    return parseDockerConfigEntries(auths);
  }
  if (secret.type === SecretTypeDockercfg) {
    const text = secretBytes(secret, DockerConfigKey);
    if (text === undefined) return undefined;
    return parseDockerConfigEntries(JSON.parse(text) as unknown);
  }
  return undefined;
}

/** A URL as Go's url.Parse splits it, for the parts the keyring uses. */
interface ParsedURL {
  readonly host: string;
  readonly path: string;
}

/** Parses "scheme://host/path" by hand: WHATWG URL would lower-case, drop ports and punycode hosts, which Go does not. */
function parseURL(value: string): ParsedURL | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)([^?#]*)/.exec(value);
  if (!m) return undefined;
  const authority = m[1]!;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (/[\s\u0000-\u001f]/.test(host) || /[\s\u0000-\u001f]/.test(m[2]!)) return undefined;
  let path = m[2]!;
  try {
    path = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  return { host, path };
}

/** url.Parse("https://" + s) with the scheme cleared: image names and keyring keys carry none. */
function parseSchemelessURL(s: string): ParsedURL | undefined {
  return parseURL(`https://${s}`);
}

/** Host name parts and port, as net.SplitHostPort leaves them (no port: the whole host). */
function splitURL(u: ParsedURL): { parts: string[]; port: string } {
  let host = u.host;
  let port = '';
  const bracket = /^\[([^\]]*)\]:(\d*)$/.exec(host);
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2]!;
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0 && host.indexOf(':') === colon) {
      port = host.slice(colon + 1);
      host = host.slice(0, colon);
    }
  }
  return { parts: host.split('.'), port };
}

/** Go's filepath.Match for one host label (no separators in it): *, ?, [classes] and \ escapes. */
export function globMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= pattern.length) return false; // ErrBadPattern
      re += escapeRe(pattern[i]!);
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return false; // ErrBadPattern
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\]\\^]/g, (x) => `\\${x}`)}]`;
      i = end;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(`${re}$`, 's').test(name);
  } catch {
    return false;
  }
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * Whether target matches the (glob) key: same port, same number of host labels each matching its
 * glob, and the key's path a prefix of the target's. "*.docker.io" matches "x.docker.io" only.
 */
export function urlsMatch(glob: string, target: string): boolean {
  const g = parseSchemelessURL(glob);
  const t = parseSchemelessURL(target);
  if (!g || !t) return false;
  const gs = splitURL(g);
  const ts = splitURL(t);
  if (gs.port !== ts.port || gs.parts.length !== ts.parts.length) return false;
  if (!t.path.startsWith(g.path)) return false;
  return gs.parts.every((p, i) => globMatch(p, ts.parts[i]!));
}

const DEFAULT_REGISTRY_HOST = 'index.docker.io';

/** Whether an image (a normalized repository) is pulled from Docker Hub. */
function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf('/');
  const first = slash < 0 ? image : image.slice(0, slash);
  if (first === '') return false;
  if (slash < 0) return true;
  if (first === 'docker.io' || first === 'index.docker.io') return true;
  return !/[.:]/.test(first);
}

/** The keyring key of a docker config location: host plus any path other than "/", "/v1/" or "/v2/". */
export function keyringKey(location: string): string | undefined {
  const value = /^https?:\/\//.test(location) ? location : `https://${location}`;
  const u = parseURL(value);
  if (!u) return undefined;
  let path = u.path;
  if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
  return path.length > 0 && path !== '/' ? u.host + path : u.host;
}

/** Credentials by registry location, looked up by image (BasicDockerKeyring). */
export class DockerKeyring {
  /** Keys, reverse-sorted so that "quay.io/org" is tried before "quay.io". */
  #index: string[] = [];
  readonly #creds = new Map<string, AuthConfig[]>();

  /** Adds every entry of a docker config; invalid locations are skipped. */
  add(config: DockerConfig): void {
    for (const [loc, e] of config) {
      const key = keyringKey(loc);
      if (key === undefined) continue;
      // upstream keeps username/password only; containerd honours the tokens too, so they go along
      const auth: AuthConfig = {
        username: e.username, password: e.password,
        ...(e.identityToken ? { identityToken: e.identityToken } : {}),
        ...(e.registryToken ? { registryToken: e.registryToken } : {}),
      };
      const list = this.#creds.get(key) ?? [];
      list.push(auth);
      this.#creds.set(key, list);
    }
    this.#index = [...this.#creds.keys()].sort().reverse();
  }

  /** Every credential matching the image (a repository such as "docker.io/library/busybox"), most specific first. */
  lookup(image: string): AuthConfig[] {
    const out: AuthConfig[] = [];
    for (const k of this.#index) {
      if (urlsMatch(k, image)) out.push(...this.#creds.get(k)!);
    }
    if (out.length > 0) return out;
    const hub = this.#creds.get(DEFAULT_REGISTRY_HOST);
    return hub && isDefaultRegistryMatch(image) ? [...hub] : [];
  }
}

/** A keyring of the docker config secrets among `secrets` (others are ignored). */
export function makeDockerKeyring(secrets: readonly Secret[]): DockerKeyring {
  const keyring = new DockerKeyring();
  for (const s of secrets) {
    const config = dockerConfigOfSecret(s);
    if (config) keyring.add(config);
  }
  return keyring;
}

/**
 * The repository an image pulls from, normalized as the docker reference library does:
 * "busybox:1" -> "docker.io/library/busybox", "quay.io/org/app@sha256:..." -> "quay.io/org/app".
 */
export function repositoryToPull(image: string): string {
  let name = image;
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) name = name.slice(0, colon);
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first);
  let domain = hasDomain ? first : 'docker.io';
  let rest = hasDomain ? name.slice(slash + 1) : name;
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  return `${domain}/${rest}`;
}
