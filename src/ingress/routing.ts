// The Ingress routing table (pure): which backend answers a request for a host and path, built from
// the Ingresses this controller owns. Matching follows the Ingress spec: exact host over `*.`
// wildcard over host-less rules, longest path first, Exact before Prefix, Prefix element-wise.
import type { HTTPIngressPath, Ingress, IngressBackend } from '../api/types/networking_v1.ts';

/** How a path rule compares request paths; ImplementationSpecific is read as Prefix. */
export const PathType = { Exact: 'Exact', Prefix: 'Prefix', ImplementationSpecific: 'ImplementationSpecific' } as const;
export type PathType = (typeof PathType)[keyof typeof PathType];

/** One path rule of one host, with its resolved backend. */
export interface PathRoute<B> {
  /** The path as written in the Ingress. */
  readonly path: string;
  readonly exact: boolean;
  /** Exact: the path itself; Prefix: the path without trailing slashes ("" for "/"). */
  readonly match: string;
  readonly backend: B;
  /** namespace/name of the Ingress the rule comes from. */
  readonly ingress: string;
}

/** The rules of one host (or of every host, for rules without one). */
export interface HostRoutes<B> {
  /** In precedence order: longest match first, Exact before Prefix at equal length. */
  readonly paths: readonly PathRoute<B>[];
  /** spec.defaultBackend of the (oldest) Ingress naming this host, if it has one. */
  readonly defaultBackend: B | undefined;
}

/** A Secret named by spec.tls. */
export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
}

/** An immutable snapshot of every route; the proxy swaps whole tables, never edits one. */
export interface RouteTable<B> {
  /** Lower-case host → routes. */
  readonly hosts: ReadonlyMap<string, HostRoutes<B>>;
  /** Wildcard hosts by their suffix: "*.foo.com" is stored under ".foo.com". */
  readonly wildcards: ReadonlyMap<string, HostRoutes<B>>;
  /** Rules without a host: they apply to every request. */
  readonly anyHost: HostRoutes<B>;
  /** spec.defaultBackend of the oldest Ingress that has one. */
  readonly defaultBackend: B | undefined;
  /** TLS host (exact or "*.foo.com") → the Secret holding its certificate. */
  readonly tls: ReadonlyMap<string, SecretRef>;
}

/** What answers a request, and why. */
export interface RouteMatch<B> {
  readonly backend: B;
  /** The matching rule, or undefined when a default backend answers. */
  readonly route: PathRoute<B> | undefined;
}

/** Turns an Ingress backend into whatever the caller routes to (undefined drops the rule). */
export type BackendResolver<B> = (namespace: string, backend: IngressBackend) => B | undefined;

interface HostBuilder<B> {
  paths: PathRoute<B>[];
  seen: Set<string>;
  defaultBackend: B | undefined;
}

/**
 * Builds a table from `ingresses` (already filtered to this controller's class). Where two Ingresses
 * claim the same host, path and type, the older one wins, as ingress-nginx decides.
 */
export function buildRouteTable<B>(ingresses: readonly Ingress[], resolve: BackendResolver<B>): RouteTable<B> {
  const hosts = new Map<string, HostBuilder<B>>();
  const wildcards = new Map<string, HostBuilder<B>>();
  const anyHost: HostBuilder<B> = { paths: [], seen: new Set(), defaultBackend: undefined };
  const tls = new Map<string, SecretRef>();
  let defaultBackend: B | undefined;

  for (const ing of [...ingresses].sort(olderFirst)) {
    const namespace = ing.metadata?.namespace ?? '';
    const key = `${namespace}/${ing.metadata?.name ?? ''}`;
    const spec = ing.spec ?? {};
    const ingDefault = spec.defaultBackend ? resolve(namespace, spec.defaultBackend) : undefined;
    if (defaultBackend === undefined) defaultBackend = ingDefault;
    const ruleHosts: string[] = [];
    for (const rule of spec.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      let target: HostBuilder<B>;
      if (host === '') {
        target = anyHost;
      } else {
        ruleHosts.push(host);
        const map = host.startsWith('*.') ? wildcards : hosts;
        const mapKey = host.startsWith('*.') ? host.slice(1) : host;
        let b = map.get(mapKey);
        if (!b) {
          b = { paths: [], seen: new Set(), defaultBackend: ingDefault };
          map.set(mapKey, b);
        }
        target = b;
      }
      for (const p of rule.http?.paths ?? []) addPath(target, p, namespace, key, resolve);
    }
    for (const t of spec.tls ?? []) {
      if (!t.secretName) continue;
      // A TLS entry without hosts covers the hosts of the Ingress's own rules.
      for (const h of t.hosts && t.hosts.length > 0 ? t.hosts : ruleHosts) {
        const host = h.toLowerCase();
        if (!tls.has(host)) tls.set(host, { namespace, name: t.secretName });
      }
    }
  }
  return {
    hosts: finish(hosts),
    wildcards: finish(wildcards),
    anyHost: finishOne(anyHost),
    defaultBackend,
    tls,
  };
}

function addPath<B>(target: HostBuilder<B>, p: HTTPIngressPath, namespace: string, ingress: string, resolve: BackendResolver<B>): void {
  const exact = p.pathType === PathType.Exact;
  // ImplementationSpecific paths may be empty; they then cover everything, like "/".
  const path = p.path === undefined || p.path === '' ? '/' : p.path;
  const id = `${exact ? 'E' : 'P'}${path}`;
  if (target.seen.has(id)) return;
  const backend = resolve(namespace, p.backend);
  if (backend === undefined) return;
  target.seen.add(id);
  target.paths.push({ path, exact, match: exact ? path : trimTrailingSlashes(path), backend, ingress });
}

function finish<B>(m: Map<string, HostBuilder<B>>): Map<string, HostRoutes<B>> {
  const out = new Map<string, HostRoutes<B>>();
  for (const [k, b] of m) out.set(k, finishOne(b));
  return out;
}

function finishOne<B>(b: HostBuilder<B>): HostRoutes<B> {
  const paths = b.paths.slice().sort((x, y) => y.match.length - x.match.length || Number(y.exact) - Number(x.exact));
  return { paths, defaultBackend: b.defaultBackend };
}

function trimTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  return path.slice(0, end);
}

function olderFirst(a: Ingress, b: Ingress): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`;
  const kb = `${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** True when `requestPath` (no query) is matched by a rule's `match` text. */
export function pathMatches(route: Pick<PathRoute<unknown>, 'exact' | 'match'>, requestPath: string): boolean {
  if (route.exact) return requestPath === route.match;
  const m = route.match;
  if (m === '') return true;
  // Element-wise: "/foo" covers "/foo" and "/foo/bar" but not "/foobar".
  return requestPath.startsWith(m) && (requestPath.length === m.length || requestPath.charCodeAt(m.length) === 0x2f);
}

/** The routes of `host` (lower-case, no port): exact, then a one-label wildcard; undefined if none. */
export function hostRoutes<B>(table: RouteTable<B>, host: string): HostRoutes<B> | undefined {
  const exact = table.hosts.get(host);
  if (exact) return exact;
  if (table.wildcards.size === 0) return undefined;
  const dot = host.indexOf('.');
  // "*.foo.com" matches "bar.foo.com" but neither "foo.com" nor "baz.bar.foo.com".
  return dot > 0 ? table.wildcards.get(host.slice(dot)) : undefined;
}

function firstMatch<B>(routes: HostRoutes<B>, path: string): PathRoute<B> | undefined {
  for (const r of routes.paths) if (pathMatches(r, path)) return r;
  return undefined;
}

/**
 * Finds the backend for a request: the host's rules, then host-less rules (they apply to all
 * traffic), then the host's Ingress default backend, then the table's default backend.
 */
export function matchRoute<B>(table: RouteTable<B>, host: string, path: string): RouteMatch<B> | undefined {
  const routes = hostRoutes(table, host);
  const route = (routes && firstMatch(routes, path)) ?? firstMatch(table.anyHost, path);
  if (route) return { backend: route.backend, route };
  const fallback = routes?.defaultBackend ?? table.defaultBackend;
  return fallback === undefined ? undefined : { backend: fallback, route: undefined };
}

/** The Host header without port, lower-cased ("" when absent); IPv6 literals keep their brackets. */
export function normalizeHost(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  let h = hostHeader;
  if (h.charCodeAt(0) === 0x5b) {
    const close = h.indexOf(']');
    h = close > 0 ? h.slice(0, close + 1) : h;
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

/** The path part of a request target (no query or fragment). */
export function requestPath(url: string | undefined): string {
  if (!url) return '/';
  let end = url.length;
  const q = url.indexOf('?');
  if (q >= 0) end = q;
  const f = url.indexOf('#');
  if (f >= 0 && f < end) end = f;
  // Absolute-form targets (proxy style "http://h/p") still route by their path.
  if (url.charCodeAt(0) !== 0x2f) {
    try {
      return new URL(url).pathname;
    } catch {
      return '/';
    }
  }
  return end === url.length ? url : url.slice(0, end);
}
