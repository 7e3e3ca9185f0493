// k3s's registries.yaml (mirrors with endpoints; per-host auth and TLS) translated for containerd
// 1.6's CRI plugin: one hosts.toml per registry under DATA/agent/containerd/certs.d (config_path),
// and the credentials, which hosts.toml cannot hold in 1.6, as registry.configs.<host>.auth tables.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';

/** configs.<host>.auth: sent to that host when the kubelet passes no credentials of its own. */
export interface RegistryAuth {
  readonly username?: string;
  readonly password?: string;
  /** base64 of "username:password". */
  readonly auth?: string;
  readonly identityToken?: string;
}

/** configs.<host>.tls; file paths are absolute (relative ones are resolved against registries.yaml's dir). */
export interface RegistryTLS {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly insecureSkipVerify?: boolean;
}

/** The parsed registries.yaml. */
export interface RegistriesConfig {
  /** Registry name ("docker.io", "registry.example.com:5000", "*" for every registry) to its endpoints, tried in order. */
  readonly mirrors: Readonly<Record<string, readonly string[]>>;
  /** Endpoint host to its credentials and TLS settings. */
  readonly configs: Readonly<Record<string, { readonly auth?: RegistryAuth; readonly tls?: RegistryTLS }>>;
}

/** Where the translation goes (ContainerdPaths has both). */
export interface RegistryPaths {
  /** config_path: DATA/agent/containerd/certs.d */
  readonly certsDir: string;
  /** The credentials for config.toml, kept between the agent's write and containerd's (re)starts. */
  readonly registryAuth: string;
}

/** What the agent uses when no --registries is given: DATA/registries.yaml, if it exists. */
export function defaultRegistriesFile(dataDir: string): string {
  return join(dataDir, 'registries.yaml');
}

// A registry key names a directory under certs.d: a host[:port] and nothing that could climb out.
const HOST_KEY = /^(\*|[A-Za-z0-9_-][A-Za-z0-9._-]*(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?)$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(where: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new Error(`${where}: unknown field ${JSON.stringify(k)} (want ${allowed.join(', ')})`);
  }
}

function optString(where: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`${where}: want a string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Parses registries.yaml text (`source` names the file in errors; relative TLS paths resolve against
 * its directory). Fields unknown to k3s are errors; `rewrite` is refused since containerd 1.6 lacks it.
 */
export function parseRegistries(text: string, source: string): RegistriesConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return { mirrors: {}, configs: {} };
  if (!isObject(doc)) throw new Error(`${source}: want a mapping with mirrors and configs`);
  checkKeys(source, doc, ['mirrors', 'configs']);
  const base = dirname(resolve(source));
  const mirrors: Record<string, string[]> = {};
  const rawMirrors = doc['mirrors'] ?? {};
  if (!isObject(rawMirrors)) throw new Error(`${source}: mirrors: want a mapping of registry names`);
  for (const [name, m] of Object.entries(rawMirrors)) {
    const where = `${source}: mirrors.${name}`;
    if (!HOST_KEY.test(name)) throw new Error(`${where}: want a registry host[:port] or "*"`);
    if (!isObject(m)) throw new Error(`${where}: want a mapping with endpoint`);
    if ('rewrite' in m) throw new Error(`${where}.rewrite: not supported (containerd 1.6 has no repository rewrites)`);
    checkKeys(where, m, ['endpoint']);
    const eps = m['endpoint'] ?? [];
    if (!Array.isArray(eps) || eps.some((e) => typeof e !== 'string' || e === '')) throw new Error(`${where}.endpoint: want a list of URLs`);
    mirrors[name] = (eps as string[]).map((e, i) => {
      try {
        endpointURL(e);
      } catch (err) {
        throw new Error(`${where}.endpoint[${i}]: ${(err as Error).message}`);
      }
      return e;
    });
  }
  const configs: Record<string, { auth?: RegistryAuth; tls?: RegistryTLS }> = {};
  const rawConfigs = doc['configs'] ?? {};
  if (!isObject(rawConfigs)) throw new Error(`${source}: configs: want a mapping of registry hosts`);
  for (const [host, c] of Object.entries(rawConfigs)) {
    const where = `${source}: configs.${host}`;
    if (!HOST_KEY.test(host)) throw new Error(`${where}: want a registry host[:port] or "*"`);
    if (!isObject(c)) throw new Error(`${where}: want a mapping with auth and/or tls`);
    checkKeys(where, c, ['auth', 'tls']);
    const entry: { auth?: RegistryAuth; tls?: RegistryTLS } = {};
    if (c['auth'] !== undefined && c['auth'] !== null) {
      const a = c['auth'];
      if (!isObject(a)) throw new Error(`${where}.auth: want a mapping`);
      checkKeys(`${where}.auth`, a, ['username', 'password', 'auth', 'identity_token']);
      const auth: { username?: string; password?: string; auth?: string; identityToken?: string } = {};
      const username = optString(`${where}.auth.username`, a['username']);
      const password = optString(`${where}.auth.password`, a['password']);
      const b64 = optString(`${where}.auth.auth`, a['auth']);
      const token = optString(`${where}.auth.identity_token`, a['identity_token']);
      if (username !== undefined) auth.username = username;
      if (password !== undefined) auth.password = password;
      if (b64 !== undefined) auth.auth = b64;
      if (token !== undefined) auth.identityToken = token;
      entry.auth = auth;
    }
    if (c['tls'] !== undefined && c['tls'] !== null) {
      const t = c['tls'];
      if (!isObject(t)) throw new Error(`${where}.tls: want a mapping`);
      checkKeys(`${where}.tls`, t, ['ca_file', 'cert_file', 'key_file', 'insecure_skip_verify']);
      const file = (key: string): string | undefined => {
        const v = optString(`${where}.tls.${key}`, t[key]);
        return v === undefined || v === '' ? undefined : isAbsolute(v) ? v : resolve(base, v);
      };
      const tls: { caFile?: string; certFile?: string; keyFile?: string; insecureSkipVerify?: boolean } = {};
      const ca = file('ca_file');
      const cert = file('cert_file');
      const key = file('key_file');
      if (ca) tls.caFile = ca;
      if (cert) tls.certFile = cert;
      if (key) tls.keyFile = key;
      const skip = t['insecure_skip_verify'];
      if (skip !== undefined && skip !== null) {
        if (typeof skip !== 'boolean') throw new Error(`${where}.tls.insecure_skip_verify: want true or false, got ${JSON.stringify(skip)}`);
        tls.insecureSkipVerify = skip;
      }
      if (tls.keyFile && !tls.certFile) throw new Error(`${where}.tls: key_file needs cert_file`);
      entry.tls = tls;
    }
    configs[host] = entry;
  }
  return { mirrors, configs };
}

/** Reads and parses a registries.yaml. */
export function loadRegistries(file: string): RegistriesConfig {
  return parseRegistries(readFileSync(file, 'utf8'), file);
}

/** Localhost and loopback addresses: plain HTTP by default on ports other than 443, as containerd does. */
function isLocalhost(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1';
}

/** An endpoint as containerd will call it: scheme, host and API root (with "/v2" unless overridden). */
interface Endpoint {
  /** Host (and port) of the endpoint, as containerd passes it to the credentials lookup. */
  readonly host: string;
  /** The hosts.toml key / server value, e.g. "http://127.0.0.1:5000/v2". */
  readonly url: string;
  /** The path is the API root itself (a registry without /v2 in its URLs). */
  readonly overridePath: boolean;
}

/** Normalizes an endpoint as k3s does: a scheme when missing, registry-1.docker.io for docker.io, /v2 as the default path. */
function endpointURL(endpoint: string): Endpoint {
  const withScheme = endpoint.includes('://') ? endpoint : `//${endpoint}`;
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?\/\/([^/?#]+)([^?#]*)$/.exec(withScheme);
  if (!m) throw new Error(`invalid endpoint URL ${JSON.stringify(endpoint)}`);
  let scheme = (m[1] ?? '').toLowerCase();
  let host = m[2]!;
  const port = /:(\d+)$/.exec(host)?.[1] ?? '';
  if (scheme === '') scheme = isLocalhost(host) && port !== '' && port !== '443' ? 'http' : 'https';
  if (scheme !== 'http' && scheme !== 'https') throw new Error(`endpoint ${JSON.stringify(endpoint)}: want http or https`);
  if (host === 'docker.io') host = 'registry-1.docker.io';
  const path = m[3]!;
  if (path === '' || path === '/' || path === '/v2') return { host, url: `${scheme}://${host}/v2`, overridePath: false };
  return { host, url: `${scheme}://${host}${path}`, overridePath: true };
}

/** The configs entry for an endpoint host (docker.io's under either of its names). */
function configFor(config: RegistriesConfig, host: string): { auth?: RegistryAuth; tls?: RegistryTLS } | undefined {
  if (host === 'registry-1.docker.io') return config.configs[host] ?? config.configs['docker.io'];
  return config.configs[host];
}

function q(s: string): string {
  return JSON.stringify(s);
}

/** hosts.toml lines of one endpoint's TLS settings. */
function tlsLines(tls: RegistryTLS | undefined, indent: string): string[] {
  if (!tls) return [];
  const out: string[] = [];
  if (tls.caFile) out.push(`${indent}ca = [${q(tls.caFile)}]`);
  if (tls.certFile) out.push(`${indent}client = [[${q(tls.certFile)}, ${q(tls.keyFile ?? '')}]]`);
  if (tls.insecureSkipVerify) out.push(`${indent}skip_verify = true`);
  return out;
}

const HEADER = '# Generated by tkube from registries.yaml: rewritten at every agent start.';

/**
 * The hosts.toml of each registry that needs one, by directory name under certs.d ("_default" for
 * "*"). Mirror endpoints come first, in order; the registry itself (`server`) is the fallback, except
 * for "*", where containerd falls back to whichever registry the image names.
 */
export function renderHostsFiles(config: RegistriesConfig): Map<string, string> {
  const out = new Map<string, string>();
  const names = new Set([...Object.keys(config.configs), ...Object.keys(config.mirrors)]);
  for (const name of [...names].sort()) {
    const server = name === '*' ? undefined : endpointURL(name);
    const serverConfig = server ? configFor(config, server.host) : undefined;
    const mirrors = [...new Set(config.mirrors[name] ?? [])].map(endpointURL);
    // an endpoint list ending in the registry itself only restates the fallback
    if (server && mirrors.length > 0 && mirrors[mirrors.length - 1]!.url === server.url) mirrors.pop();
    const serverTls = serverConfig?.tls;
    const hasTls = serverTls && tlsLines(serverTls, '').length > 0;
    if (mirrors.length === 0 && !hasTls) continue; // containerd's defaults do the same
    const lines = [HEADER];
    if (server) {
      lines.push(`server = ${q(server.url)}`);
      if (server.overridePath) lines.push('override_path = true');
      lines.push(...tlsLines(serverTls, ''));
    }
    lines.push('');
    // containerd 1.6 rejects a hosts.toml without a host table, so an empty one stands in
    if (mirrors.length === 0) lines.push('[host]', '');
    for (const ep of mirrors) {
      lines.push(`[host.${q(ep.url)}]`, '  capabilities = ["pull", "resolve"]');
      if (ep.overridePath) lines.push('  override_path = true');
      lines.push(...tlsLines(configFor(config, ep.host)?.tls, '  '), '');
    }
    out.set(name === '*' ? '_default' : name, lines.join('\n'));
  }
  return out;
}

/** Credentials by endpoint host, for config.toml (containerd 1.6 reads them only there). */
export function registryAuths(config: RegistriesConfig): Record<string, RegistryAuth> {
  const out: Record<string, RegistryAuth> = {};
  for (const [host, c] of Object.entries(config.configs)) {
    if (c.auth && Object.values(c.auth).some((v) => v !== undefined && v !== '')) out[host] = c.auth;
  }
  return out;
}

/** config.toml lines of the CRI plugin's registry section. */
export function renderRegistrySection(certsDir: string, auths: Readonly<Record<string, RegistryAuth>>): string[] {
  const section = 'plugins."io.containerd.grpc.v1.cri".registry';
  const lines = [`[${section}]`, `  config_path = ${q(certsDir)}`, ''];
  for (const host of Object.keys(auths).sort()) {
    const a = auths[host]!;
    lines.push(`[${section}.configs.${q(host)}.auth]`);
    if (a.username) lines.push(`  username = ${q(a.username)}`);
    if (a.password) lines.push(`  password = ${q(a.password)}`);
    if (a.auth) lines.push(`  auth = ${q(a.auth)}`);
    if (a.identityToken) lines.push(`  identitytoken = ${q(a.identityToken)}`);
    lines.push('');
  }
  return lines;
}

/** The credentials writeRegistryConfig left for the config renderer (none when absent or unreadable). */
export function readRegistryAuths(paths: RegistryPaths): Record<string, RegistryAuth> {
  try {
    const v = JSON.parse(readFileSync(paths.registryAuth, 'utf8')) as unknown;
    return isObject(v) ? (v as Record<string, RegistryAuth>) : {};
  } catch {
    return {};
  }
}

/**
 * Replaces certs.d and the saved credentials with what `config` says (nothing: no registry
 * configuration). Runs before containerd starts; containerd re-reads hosts.toml at every pull.
 */
export function writeRegistryConfig(paths: RegistryPaths, config: RegistriesConfig | undefined): void {
  rmSync(paths.certsDir, { recursive: true, force: true });
  rmSync(paths.registryAuth, { force: true });
  if (!config) return;
  mkdirSync(paths.certsDir, { recursive: true, mode: 0o700 });
  for (const [dir, text] of renderHostsFiles(config)) {
    mkdirSync(join(paths.certsDir, dir), { recursive: true, mode: 0o700 });
    writeFileSync(join(paths.certsDir, dir, 'hosts.toml'), text, { mode: 0o600 });
  }
  const auths = registryAuths(config);
  if (Object.keys(auths).length > 0) {
    mkdirSync(dirname(paths.registryAuth), { recursive: true, mode: 0o711 });
    writeFileSync(paths.registryAuth, JSON.stringify(auths), { mode: 0o600 });
  }
}

/**
 * The registry configuration an agent uses: `file` when given ("" for none; a missing file is an
 * error), else DATA/registries.yaml when it exists.
 */
export function resolveRegistries(dataDir: string, file: string | undefined): RegistriesConfig | undefined {
  if (file === '') return undefined;
  if (file !== undefined) {
    if (!existsSync(file)) throw new Error(`registries file ${file} does not exist`);
    return loadRegistries(file);
  }
  const fallback = defaultRegistriesFile(dataDir);
  return existsSync(fallback) ? loadRegistries(fallback) : undefined;
}
