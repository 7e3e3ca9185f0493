// The API server: HTTPS (HTTP/2 and HTTP/1.1) in front of the registries. It authenticates, routes
// non-resource paths (health, version, discovery, OpenAPI) and resource requests to the handlers,
// and turns every failure into a metav1.Status. Components reach storage only through it.
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { logger } from '../base/log.ts';
import { versionInfo } from '../base/version.ts';
import { parseCertificateIdentity } from '../base/pki.ts';
import {
  AGGREGATED_DISCOVERY_CONTENT_TYPE, BUILTIN_DISCOVERY, aggregatedDiscovery, apiGroupDocument, apiGroupList, apiResourceList, apiVersions,
  type DiscoverySource,
} from '../api/discovery.ts';
import type { MetricsApi } from './metrics/api.ts';
import { RESOURCES, resourceFor } from '../api/resource_table.ts';
import type { ResourceInfo } from '../api/resource_types.ts';
import type { Store } from '../storage/types.ts';
import { ApiError, newBadRequest, newForbidden, newMethodNotAllowed, newNoResource, newUnauthorized, toApiError } from './errors.ts';
import { negotiate, writeError, writeJSON, writeRaw, type Req, type Res } from './http_util.ts';
import { parseRequestInfo, type RequestInfo } from './request_info.ts';
import { parseRequestURI, pathSegmentNameErrors } from './request_uri.ts';
import { impersonate } from './authn/impersonation.ts';
import { goQuote } from '../api/apply/fieldpath.ts';
import { GenericStore, decodeStored, storagePrefix } from './registry/generic_store.ts';
import { WatchCache } from './watch_cache.ts';
import type { HandlerContext, UserInfo } from './handlers/context.ts';
import { handleGet, handleList } from './handlers/read.ts';
import { handleWatch } from './handlers/watch.ts';
import { handleCreate, handleDelete, handleDeleteCollection, handlePatch, handleUpdate } from './handlers/write.ts';
import { serveOpenAPI } from './openapi_handler.ts';
import { handleScale } from './handlers/scale.ts';
import { handleBinding } from './handlers/binding.ts';
import { handleEviction, pdbInfo } from './handlers/eviction.ts';
import { handleComponentStatus } from './handlers/component_status.ts';
import { healthChecks, serveHealth } from './health.ts';
import { handleSnapshots, SNAPSHOTS_PATH } from './snapshot_handler.ts';
import { handleReview, isReview } from './handlers/reviews.ts';
import { forbiddenReason, sanitizeHTML, type Attributes, type Authorizer } from './authz/authorizer.ts';
import { RbacWiring } from './authz/wiring.ts';
import { Auditor, auditContextOf } from './audit/auditor.ts';
import { bindAuditAnnotationSink } from './admission/types.ts';
import { nowMicros } from './audit/event.ts';
import { ChainAuthorizer, NodeAuthorizer, WatchCacheNodeGraph } from './authz/node.ts';
import { AuthenticationWiring } from './authn/wiring.ts';
import { isOidcPath, serveOidc } from './handlers/oidc.ts';
import { handleTokenRequest } from './handlers/token_request.ts';
import { handleCsr, isCsrRoute } from './csr/handlers.ts';
import { CsrController } from './csr/controller.ts';
import type { CertificateAuthority } from '../base/pki.ts';
import { createServices, type ServerServices } from './services.ts';
import {
  handleProxySubresource, isProxySubresource, nodeKubeletDialer, type KubeletClientTLS, type KubeletDialer, type UpgradeConnection,
} from './handlers/pod_proxy.ts';
import { handleConnectProxy, isConnectProxy } from './handlers/service_proxy.ts';
import './registry/strategies.ts';
import { CrdRegistry, type ServedCustomResource } from './crd/crd_registry.ts';
import { CrdControllers } from './crd/crd_controllers.ts';
import { CrdOpenAPI } from './crd/openapi.ts';
import { serveCustomResource } from './crd/custom_resource_handler.ts';

const log = logger('apiserver');

/** TLS material of the serving endpoint. */
export interface ServingTLS {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

/** Options of the API server. */
export interface ApiServerOptions {
  readonly store: Store;
  readonly tls: ServingTLS;
  readonly port: number;
  readonly bindAddress: string;
  /** Address clients should use ("127.0.0.1:6443"), for discovery's serverAddressByClientCIDRs. */
  readonly advertiseAddress?: string;
  /** Service ClusterIP range (default 10.43.0.0/16). */
  readonly serviceCidr?: string;
  /** Admission plugins to enable (default: all, in upstream's order). */
  readonly admissionPlugins?: readonly string[];
  /** Events each watch cache keeps for resuming watches (default 100,000). */
  readonly watchCacheHistory?: number;
  /** Client certificate for kubelets (pods/log, exec, attach, portforward, nodes/proxy). */
  readonly kubeletClientTLS?: KubeletClientTLS;
  /** Overrides how node names resolve to kubelets (default: the Node's addresses and kubelet port). */
  readonly kubeletDialer?: KubeletDialer;
  /** `--token-auth-file`: CSV of static bearer tokens (token,user,uid,"group1,group2"). */
  readonly tokenAuthFile?: string;
  /** PEM private key signing service-account tokens, generated when missing (e.g. DATA/tls/service-account.key); default an in-memory key. */
  readonly serviceAccountKeyFile?: string;
  /** `--service-account-issuer` (default https://kubernetes.default.svc.cluster.local), also the API audience. */
  readonly issuer?: string;
  /** `--anonymous-auth`: requests without credentials run as system:anonymous for RBAC to judge (default false: 401). */
  readonly anonymousAuth?: boolean;
  /** `--audit-policy-file` with `--audit-log-*`: records requests as audit.k8s.io/v1 events (none when absent). */
  readonly auditor?: Auditor;
  /** The cluster CA with its key, for signing approved CertificateSigningRequests (unsigned without it). */
  readonly clusterSigningCA?: CertificateAuthority;
  /** Longest lifetime of a certificate signed for a CSR (--cluster-signing-duration; default one year). */
  readonly clusterSigningDurationSeconds?: number;
}

/** Subresources served by the generic handlers (others have their own handler, or are not served yet). */
const SERVED_SUBRESOURCES = new Set(['status', 'finalize', 'ephemeralcontainers']);

/** http.DefaultMaxHeaderBytes, which kube-apiserver's secure serving keeps. */
const MAX_HEADER_BYTES = 1 << 20;

const ANONYMOUS_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

/**
 * The HTTPS server (TLS, HTTP/2 with HTTP/1.1 fallback) the API server listens with, without its
 * handlers: the API benchmark's transport floor runs a no-op handler on exactly this.
 */
export function createServingServer(tls: ServingTLS): Http2SecureServer {
  const server = createSecureServer({
    cert: tls.certPem,
    key: tls.keyPem,
    ca: tls.caPem,
    requestCert: true,
    rejectUnauthorized: false,
    allowHTTP1: true,
    // Big lists and watch fan-out share sessions with writes; the 10 MB default answers ENHANCE_YOUR_CALM.
    maxSessionMemory: 256,
  });
  // Upstream's MaxHeaderBytes (1 MiB) for HTTP/1.1; the fallback parser reads it off the server object.
  (server as unknown as { maxHeaderSize: number }).maxHeaderSize = MAX_HEADER_BYTES;
  return server;
}

/** A running API server. */
export class ApiServer {
  #opts: ApiServerOptions;
  #server: Http2SecureServer | undefined;
  #stores = new Map<string, GenericStore>();
  #caches = new Map<string, WatchCache>();
  #services: ServerServices;
  #port = 0;
  #sockets = new Set<import('node:net').Socket>();
  #certUsers = new WeakMap<object, UserInfo>();
  #rbac = new RbacWiring();
  #nodeGraph = new WatchCacheNodeGraph((info) => this.storeFor(info));
  #shuttingDown = false;
  #health = healthChecks({
    probeStorage: () => this.storeFor(resourceFor('', 'v1', 'namespaces')!).rawStore.currentRevision(),
    shuttingDown: () => this.#shuttingDown,
  });
  // system:masters and RBAC live in RbacWiring; the Node authorizer never denies, so its place is free.
  #authorizer: Authorizer = new ChainAuthorizer([new NodeAuthorizer(this.#nodeGraph), this.#rbac]);
  #authn: AuthenticationWiring;
  #csr: CsrController;
  /** Connections of HTTP/1.1 upgrade requests (exec, attach, port-forward), by request. */
  #upgrades = new WeakMap<object, UpgradeConnection>();
  /** How node names resolve to kubelets; replaceable until requests need it. */
  kubeletDialer: KubeletDialer;
  /** The metrics.k8s.io API, while a metrics server (metrics/metrics_server.ts) is registered. */
  metrics: MetricsApi | undefined;
  /** Custom resources of the CRDs in storage, with the apiextensions controllers keeping CRD status. */
  #crds: CrdRegistry;
  #crdControllers: CrdControllers;
  #openapi: CrdOpenAPI;

  constructor(opts: ApiServerOptions) {
    this.#opts = opts;
    this.#services = createServices({
      storeFor: (info) => this.storeFor(info), serviceCidr: opts.serviceCidr ?? '10.43.0.0/16',
      checkWrite: (a) => this.#rbac.checkWrite(a),
      admissionPlugins: opts.admissionPlugins,
      authorizer: { authorize: (a) => this.#authorizer.authorize(a), rulesFor: (u, ns) => this.#authorizer.rulesFor(u, ns) },
    });
    this.#authn = new AuthenticationWiring({
      tokenAuthFile: opts.tokenAuthFile, serviceAccountKeyFile: opts.serviceAccountKeyFile, issuer: opts.issuer,
      anonymousAuth: opts.anonymousAuth, caPem: opts.tls.caPem,
    });
    this.#csr = new CsrController({
      store: this.storeFor(resourceFor('certificates.k8s.io', 'v1', 'certificatesigningrequests')!),
      ca: opts.clusterSigningCA, authorize: (a) => this.#authorizer.authorize(a),
      ...(opts.clusterSigningDurationSeconds !== undefined ? { signingDurationSeconds: opts.clusterSigningDurationSeconds } : {}),
      lookupNode: (name) => this.storeFor(resourceFor('', 'v1', 'nodes')!).get('', name)
        .catch((err: unknown) => (err instanceof ApiError && err.code === 404 ? undefined : Promise.reject(err))),
    });
    const crdStore = this.storeFor(resourceFor('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!);
    this.#crds = new CrdRegistry({
      crdStore, store: opts.store, hooks: this.#services.storeHooks, services: this.#services, watchCacheHistory: opts.watchCacheHistory,
    });
    this.#crdControllers = new CrdControllers(this.#crds, crdStore);
    this.#openapi = new CrdOpenAPI(this.#crds);
    const nodes = resourceFor('', 'v1', 'nodes')!;
    this.kubeletDialer = opts.kubeletDialer ?? nodeKubeletDialer((name) => this.storeFor(nodes).get('', name), opts.kubeletClientTLS);
  }

  /** The port actually bound. */
  get port(): number {
    return this.#port;
  }

  /** The registry of a resource (one watch cache per storage prefix, shared across versions). */
  storeFor(info: ResourceInfo): GenericStore {
    const id = `${info.group}/${info.version}/${info.resource}`;
    let s = this.#stores.get(id);
    if (!s) {
      const prefix = storagePrefix(info);
      let cache = this.#caches.get(prefix);
      if (!cache) {
        cache = new WatchCache(this.#opts.store, prefix, decodeStored, this.#opts.watchCacheHistory);
        this.#caches.set(prefix, cache);
      }
      s = new GenericStore(info, this.#opts.store, cache, this.#services.storeHooks);
      this.#stores.set(id, s);
    }
    return s;
  }

  /** Starts the watch caches and listens. */
  async start(): Promise<void> {
    await Promise.all(RESOURCES.filter((r) => r.verbs.includes('watch')).map((r) => this.storeFor(r).cache.start()));
    await this.#crds.start();
    this.#crdControllers.start();
    await this.#rbac.start((info) => this.storeFor(info));
    await this.#nodeGraph.start();
    await this.#authn.start((info) => this.storeFor(info));
    await this.#csr.start();
    const server = createServingServer(this.#opts.tls);
    server.on('request', (req: Req, res: Res) => {
      this.#handle(req, res).catch((err: unknown) => {
        auditContextOf(req)?.panic(err);
        log.error('unhandled error', { err: err instanceof Error ? err.stack ?? err.message : String(err) });
        try { writeError(res, toApiError(err)); } catch { /* connection gone */ }
      });
    });
    // Upgrades arrive on HTTP/1.1 only; they go through the same pipeline with a response bound
    // to the raw connection, which pod_proxy takes over once the request is authorized.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const res = new ServerResponse(req);
      res.assignSocket(socket as import('node:net').Socket);
      res.shouldKeepAlive = false;
      res.on('finish', () => socket.end());
      this.#upgrades.set(req, { socket, head });
      this.#handle(req, res).catch((err: unknown) => {
        try { writeError(res, toApiError(err)); } catch { socket.destroy(); }
      });
    });
    server.on('secureConnection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    server.on('connection', (s: import('node:net').Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port, this.#opts.bindAddress, () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  /** Stops listening, closes connections and watch caches. */
  async dispose(): Promise<void> {
    this.#shuttingDown = true;
    const server = this.#server;
    this.#server = undefined;
    this.#rbac.dispose();
    this.#csr.dispose();
    this.#authn.dispose();
    this.#nodeGraph.dispose();
    await this.#crdControllers.dispose();
    this.#crds.dispose();
    for (const c of this.#caches.values()) c.dispose();
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of this.#sockets) s.destroy();
      await closed;
    }
  }

  async #authenticate(req: Req): Promise<UserInfo | undefined> {
    // A connection's client certificate never changes: parse it once per connection (the
    // HTTP/2 session, or the HTTP/1.1 socket). Tokens can differ per request.
    const conn: object = (req as { stream?: { session?: object } }).stream?.session ?? req.socket;
    let certUser = this.#certUsers.get(conn);
    let certRejected = false;
    if (certUser === undefined) {
      const socket = req.socket as TLSSocket;
      const cert = socket.getPeerCertificate?.();
      if (cert && cert.raw && socket.authorized) {
        const id = parseCertificateIdentity(cert.raw);
        certUser = { name: id.commonName, groups: [...id.organizations, 'system:authenticated'] };
        this.#certUsers.set(conn, certUser);
      } else if (cert && cert.raw) {
        certRejected = true; // presented, but not from our CA
      }
    }
    return this.#authn.authenticateRequest(req, certUser, certRejected);
  }

  async #handle(req: Req, res: Res): Promise<void> {
    const receivedAt = nowMicros();
    const uri = parseRequestURI(req.url ?? '/');
    if (!uri) {
      // Go's net/http refuses a malformed request-target before any handler sees it.
      writeRaw(res, 400, '400 Bad Request', 'text/plain; charset=utf-8');
      return;
    }
    const path = uri.path;
    const method = (req.method ?? 'GET').toUpperCase();
    try {
      if (ANONYMOUS_PATHS.has(path) || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) {
        if (path.startsWith('/version')) writeJSON(res, 200, versionInfo());
        else if (!(await serveHealth(res, path, uri.query, this.#health))) writeRaw(res, 404, '404 page not found\n', 'text/plain; charset=utf-8', { 'X-Content-Type-Options': 'nosniff' });
        return;
      }
      const ri = parseRequestInfo(method, path, uri.query);
      const auditor = this.#opts.auditor;
      let authenticated: UserInfo | undefined;
      try {
        authenticated = await this.#authenticate(req);
        if (!authenticated) throw newUnauthorized();
      } catch (err) {
        auditor?.failedAuthentication(req, ri, { receivedAt });
        throw err;
      }
      auditor?.begin(req, authenticated, ri, { receivedAt }).attach(req, res);
      const impersonated = await impersonate(req.rawHeaders, authenticated, this.#authorizer);
      if ('internalError' in impersonated) {
        // Upstream answers a malformed impersonation request with responsewriters.InternalError: plain text.
        writeRaw(res, 500, `${sanitizeHTML(`Internal Server Error: ${goQuote(req.url ?? '/')}: ${impersonated.internalError}`)}\n`, 'text/plain; charset=utf-8', { 'X-Content-Type-Options': 'nosniff' });
        return;
      }
      const user = impersonated.user;
      if (user !== authenticated) auditContextOf(req)?.setImpersonatedUser(user);
      if (!ri.isResourceRequest) {
        // Discovery, OpenAPI and issuer discovery are RBAC-checked non-resource URLs, as upstream.
        const attrs: Attributes = {
          user, verb: ri.verb, isResourceRequest: false, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path,
        };
        const decision = await this.#authorizer.authorize(attrs);
        auditContextOf(req)?.setAuthorizationDecision(decision);
        if (decision.decision !== 'allow') throw newForbidden({ group: '', resource: '' }, '', forbiddenReason(attrs) + (decision.reason ? `: ${decision.reason}` : ''));
        if (isOidcPath(path)) {
          serveOidc(res, path, method, this.#authn, this.#opts.advertiseAddress ?? `127.0.0.1:${this.#port}`);
          return;
        }
        await this.#handleNonResource(req, res, path, method, uri.query);
        return;
      }
      await this.#handleResource(req, res, ri, uri.query, user);
    } catch (err) {
      writeError(res, toApiError(err));
    }
  }

  async #handleNonResource(req: Req, res: Res, path: string, method: string, query: URLSearchParams): Promise<void> {
    if (path === SNAPSHOTS_PATH) return handleSnapshots(res, method, query, this.storeFor(resourceFor('', 'v1', 'namespaces')!).rawStore);
    if (method !== 'GET' && method !== 'HEAD') throw newMethodNotAllowed();
    const accept = req.headers['accept'];
    const clean = path.replace(/\/+$/, '') || '/';
    if (clean === '/api' || clean === '/apis') {
      const n = negotiate(accept, { allowTable: false, allowDiscovery: true });
      if (n.as === 'discovery-v2' || n.as === 'discovery-v2beta1') {
        const doc = aggregatedDiscovery(clean === '/api' ? 'api' : 'apis', this.#discoverySource()) as unknown as Record<string, unknown>;
        const ct = n.as === 'discovery-v2' ? AGGREGATED_DISCOVERY_CONTENT_TYPE : AGGREGATED_DISCOVERY_CONTENT_TYPE.replace('v=v2', 'v=v2beta1');
        if (n.as === 'discovery-v2beta1') doc['apiVersion'] = 'apidiscovery.k8s.io/v2beta1';
        writeRaw(res, 200, JSON.stringify(doc) + '\n', ct);
        return;
      }
      const addr = this.#opts.advertiseAddress ?? `127.0.0.1:${this.#port}`;
      writeJSON(res, 200, clean === '/api' ? apiVersions(addr) : apiGroupList(this.#discoverySource()));
      return;
    }
    const parts = clean.split('/').filter((p) => p !== '');
    if (parts[0] === 'api' && parts.length === 2) {
      const list = apiResourceList('', parts[1]!, this.#discoverySource());
      if (!list) throw newNoResource();
      writeJSON(res, 200, list);
      return;
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const g = apiGroupDocument(parts[1]!, this.#discoverySource());
      if (!g) throw newNoResource();
      writeJSON(res, 200, g);
      return;
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const list = apiResourceList(parts[1]!, parts[2]!, this.#discoverySource());
      if (!list) throw newNoResource();
      writeJSON(res, 200, list);
      return;
    }
    if (parts[0] === 'openapi') {
      serveOpenAPI(req, res, clean, this.#openapi);
      return;
    }
    throw newNoResource();
  }

  /** Built-in resources, plus metrics.k8s.io while the metrics server is registered, plus Established CRDs. */
  #discoverySource(): DiscoverySource {
    return this.#crds.discovery(this.metrics?.discovery(BUILTIN_DISCOVERY) ?? BUILTIN_DISCOVERY);
  }

  async #handleResource(req: Req, res: Res, ri: RequestInfo, query: URLSearchParams, user: UserInfo): Promise<void> {
    // metrics.k8s.io has no registry: the metrics server answers it once RBAC allows the request
    if (this.metrics?.serves(ri.group)) {
      const attrs: Attributes = {
        user, verb: ri.verb, isResourceRequest: true, namespace: ri.namespace, apiGroup: ri.group, apiVersion: ri.version,
        resource: ri.resource, subresource: ri.subresource, name: ri.name, path: ri.path,
      };
      const decision = await this.#authorizer.authorize(attrs);
      auditContextOf(req)?.setAuthorizationDecision(decision);
      if (decision.decision !== 'allow') throw newForbidden({ group: ri.group, resource: ri.resource }, ri.name, forbiddenReason(attrs) + (decision.reason ? `: ${decision.reason}` : ''));
      return this.metrics.handle(req, res, ri, query);
    }
    // Authorization precedes routing, as in upstream's filter chain: without rights, even a path that does not exist is a 403.
    const attrs: Attributes = {
      user, verb: ri.verb, isResourceRequest: true, namespace: ri.namespace, apiGroup: ri.group, apiVersion: ri.version,
      resource: ri.resource, subresource: ri.subresource, name: ri.name, path: ri.path,
      // AuthorizeNodeWithSelectors (on by default in v1.32): the Node authorizer lets a kubelet list what it selects.
      ...(ri.verb === 'list' || ri.verb === 'watch' ? { fieldSelector: query.get('fieldSelector') ?? '' } : {}),
    };
    const decision = await this.#authorizer.authorize(attrs);
    auditContextOf(req)?.setAuthorizationDecision(decision);
    if (decision.decision !== 'allow') {
      const why = forbiddenReason(attrs) + (decision.reason ? `: ${decision.reason}` : '');
      throw newForbidden({ group: ri.group, resource: ri.resource }, ri.name, why);
    }
    // Built-in resources first (one map lookup); custom resources only when that misses.
    let info = resourceFor(ri.group, ri.version, ri.resource);
    let custom: ServedCustomResource | undefined;
    if (!info) {
      custom = this.#crds.lookup(ri.group, ri.version, ri.resource, ri.namespace, ri.verb);
      if (!custom) throw newNoResource();
      info = custom.info;
    }
    const verbs = ri.subresource === '' ? info.verbs : (info.subresources.find((s) => s.name === ri.subresource)?.verbs ?? []);
    if (ri.subresource !== '' && !info.subresources.some((s) => s.name === ri.subresource)) throw newNoResource();
    // proxies relay every HTTP method (OPTIONS too), as upstream's connect handlers do
    if (!verbs.includes(ri.verb) && !(info.group === '' && isConnectProxy(info.resource, ri.subresource))) {
      if (ri.verb === 'watch' && verbs.includes('list')) throw newMethodNotAllowed();
      throw newMethodNotAllowed();
    }
    const needsName = ri.verb === 'update' || ri.verb === 'patch' || ri.subresource !== '';
    if ((needsName && ri.name === '') || (ri.verb === 'create' && ri.name !== '' && ri.subresource === '')) throw newMethodNotAllowed();
    // The registry's key function (NamespaceKeyFunc) refuses names that cannot be one path segment.
    const nameErrors = ri.name === '' ? [] : pathSegmentNameErrors(ri.name);
    if (nameErrors.length > 0) throw newBadRequest(`Name parameter invalid: ${goQuote(ri.name)}: ${nameErrors.join(';')}`);
    const store = custom ? custom.store : this.storeFor(info);
    const ctx: HandlerContext = {
      req, res, ri, query, info, store, user, services: custom ? custom.services : this.#services, warnings: [],
      // logs and streams are not objects: any Accept will do
      negotiated: isProxySubresource(ri.resource, ri.subresource) || isConnectProxy(ri.resource, ri.subresource) ? { as: 'json' } : negotiate(req.headers['accept'], { allowTable: true }),
    };
    // Admission annotations reach the request's audit event through its warnings list.
    const audit = this.#opts.auditor ? auditContextOf(req) : undefined;
    if (audit?.enabled) bindAuditAnnotationSink(ctx.warnings, audit);
    try {
      return await (custom ? serveCustomResource(ctx, custom) : this.#dispatch(ctx, info, ri, req, res));
    } catch (err) {
      // Refusals carry the warnings gathered before them (e.g. a Warn policy before a denying webhook).
      if (err instanceof ApiError && ctx.warnings.length > 0 && err.headers['Warning'] === undefined) {
        err.headers['Warning'] = ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
      }
      throw err;
    }
  }

  #dispatch(ctx: HandlerContext, info: ResourceInfo, ri: RequestInfo, req: Req, res: Res): Promise<void> | void {
    if (isReview(info.group, info.resource)) return handleReview(ctx, this.#authorizer, this.#authn);
    if (info.group === '' && info.resource === 'componentstatuses') return handleComponentStatus(ctx, (i) => this.storeFor(i));
    if (ri.subresource === 'token' && info.group === '' && info.resource === 'serviceaccounts') return handleTokenRequest(ctx, this.#authn);
    if (isCsrRoute(info.group, info.resource, ri.subresource, ri.verb)) return handleCsr(ctx, this.#authorizer);
    if (ri.subresource === 'scale') return handleScale(ctx);
    if (ri.subresource === 'binding' && info.resource === 'pods') return handleBinding(ctx);
    if (info.group === '' && isProxySubresource(info.resource, ri.subresource)) return handleProxySubresource(ctx, this.kubeletDialer, this.#upgrades.get(req));
    if (info.group === '' && isConnectProxy(info.resource, ri.subresource)) return handleConnectProxy(ctx, (r) => this.storeFor(resourceFor('', 'v1', r)!), this.#upgrades.get(req));
    if (ri.subresource === 'eviction' && info.resource === 'pods') return handleEviction(ctx, () => this.storeFor(pdbInfo()!));
    if (ri.subresource !== '' && !SERVED_SUBRESOURCES.has(ri.subresource)) throw newNoResource();
    switch (ri.verb) {
      case 'get': return handleGet(ctx);
      case 'list': return handleList(ctx);
      case 'watch': return handleWatch(ctx);
      case 'create': return handleCreate(ctx);
      case 'update': return handleUpdate(ctx);
      case 'patch': return handlePatch(ctx);
      case 'delete': return handleDelete(ctx);
      case 'deletecollection': return handleDeleteCollection(ctx);
      default: throw newMethodNotAllowed();
    }
  }
}

export { ApiError };
