// The built-in Ingress controller: keeps the default IngressClass `tkube`, watches Ingresses,
// Services, EndpointSlices and TLS Secrets through shared informers, rebuilds the proxy's routing
// snapshot whenever one of them changes, and reports the node IPs in each Ingress's status.
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { Disposable } from '../base/disposable.ts';
import { DisposableStore } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import type { Secret, Service } from '../api/types/core_v1.ts';
import type { EndpointSlice } from '../api/types/discovery_v1.ts';
import type { Ingress, IngressClass, IngressLoadBalancerIngress } from '../api/types/networking_v1.ts';
import { isAlreadyExists, isNotFound } from '../client/api_errors.ts';
import { EventBroadcaster, EventType, type EventRecorder } from '../client/events.ts';
import { SharedInformerFactory } from '../client/informer_factory.ts';
import { RateLimitingQueue } from '../client/rate_limiting_queue.ts';
import type { KubeObject, ResourceClient } from '../client/resource_client.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import { RestClient } from '../client/rest_client.ts';
import type { SharedIndexInformer } from '../client/shared_informer.ts';
import { splitKey, unwrapTombstone, type DeletedFinalStateUnknown } from '../client/store.ts';
import { resolveBackend, SERVICE_NAME_LABEL, type Upstream } from './backends.ts';
import { CertificateCache, selfSignedCertificate, TLS_SECRET_TYPE } from './certificates.ts';
import { IngressProxy, type ProxySnapshot } from './proxy.ts';
import { ProxyWorkers } from './proxy_workers.ts';
import { buildRouteTable } from './routing.ts';

const log = logger('ingress');

/** spec.controller of the IngressClass this controller serves. */
export const INGRESS_CONTROLLER_NAME = 'tkube.io/ingress-controller';
/** Marks the IngressClass that Ingresses without a class get (DefaultIngressClass admission). */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The pre-IngressClass way to pick a controller, still honoured by upstream controllers. */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
/** Event source of this controller. */
export const COMPONENT = 'tkube-ingress-controller';

const INGRESSES = resourceDescriptor('networking.k8s.io/v1', 'ingresses');
const INGRESS_CLASSES = resourceDescriptor('networking.k8s.io/v1', 'ingressclasses');
const SERVICES = resourceDescriptor('v1', 'services');
const ENDPOINT_SLICES = resourceDescriptor('discovery.k8s.io/v1', 'endpointslices');
const SECRETS = resourceDescriptor('v1', 'secrets');
const BY_SERVICE_INDEX = 'byService';

// Work queue keys besides "namespace/name" of an Ingress (whose status is then synced).
const REBUILD_KEY = '#routes';
const CLASS_KEY = '#ingressclass';

/** Options of startIngressController. */
export interface IngressControllerOptions {
  /** A client to use (not disposed by the controller), or a kubeconfig path to make one from. */
  readonly client?: RestClient;
  readonly kubeconfig?: string;
  /** Ports to serve on; 0 picks a free one. Defaults 80 and 443. */
  readonly httpPort?: number;
  readonly httpsPort?: number;
  /** Listen address; default every address. */
  readonly bindAddress?: string;
  /** Addresses written to status.loadBalancer; default the bind address or the first external IPv4. */
  readonly nodeIPs?: readonly string[];
  /** IngressClass served (default "tkube"). */
  readonly className?: string;
  /** Reported as the event source host. */
  readonly nodeName?: string;
  /** How long to wait for the first lists before serving anyway (default 30 s). */
  readonly cacheSyncTimeoutMs?: number;
  /** Proxy tuning; see IngressProxyOptions. */
  readonly connectTimeoutMs?: number;
  readonly readTimeoutMs?: number;
  readonly maxTries?: number;
  /** Proxy processes: 1 (default) serves in this process, more fork cluster workers sharing the ports. */
  readonly workers?: number;
}

/** A running controller. */
export interface IngressController extends Disposable {
  /** Bound ports (useful with port 0). */
  readonly httpPort: number;
  readonly httpsPort: number;
  /** The routing snapshot the proxy serves now. */
  snapshot(): ProxySnapshot;
  /** Resolves once every change seen so far has been applied (queue empty and idle). */
  settled(): Promise<void>;
  dispose(): Promise<void>;
}

/** Starts the controller and its listeners; resolves once both listen. */
export async function startIngressController(opts: IngressControllerOptions): Promise<IngressController> {
  if ((opts.client === undefined) === (opts.kubeconfig === undefined)) throw new Error('startIngressController: give exactly one of client and kubeconfig');
  const className = opts.className ?? 'tkube';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(className)) throw new Error(`startIngressController: className must be a DNS subdomain, got ${JSON.stringify(className)}`);
  if (opts.workers !== undefined && !(Number.isInteger(opts.workers) && opts.workers >= 1)) throw new Error(`startIngressController: workers must be a positive integer, got ${opts.workers}`);
  for (const ip of opts.nodeIPs ?? []) {
    if (isIP(ip) === 0) throw new Error(`startIngressController: nodeIPs must be IP addresses, got ${JSON.stringify(ip)}`);
  }
  const owned = new DisposableStore();
  try {
    const client = opts.client ?? owned.add(await RestClient.fromKubeconfig(opts.kubeconfig!, { userAgent: COMPONENT }));
    const controller = new IngressSyncer(client, {
      className,
      nodeIPs: opts.nodeIPs && opts.nodeIPs.length > 0 ? [...opts.nodeIPs] : defaultNodeIPs(opts.bindAddress),
      nodeName: opts.nodeName,
    });
    owned.add(controller);
    const fallbackCertificate = await selfSignedCertificate();
    controller.start();
    await controller.factory.waitForCacheSync(opts.cacheSyncTimeoutMs ?? 30_000);
    const proxyOptions = {
      httpPort: opts.httpPort ?? 80,
      httpsPort: opts.httpsPort ?? 443,
      fallbackCertificate,
      ...(opts.bindAddress !== undefined ? { bindAddress: opts.bindAddress } : {}),
      ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
      ...(opts.readTimeoutMs !== undefined ? { readTimeoutMs: opts.readTimeoutMs } : {}),
      ...(opts.maxTries !== undefined ? { maxTries: opts.maxTries } : {}),
    };
    const workers = opts.workers ?? 1;
    let proxy: ProxyRuntime;
    if (workers === 1) {
      const inProcess = owned.add(new IngressProxy(controller.buildSnapshot(), proxyOptions));
      await inProcess.listen();
      proxy = inProcess;
    } else {
      proxy = owned.add(await ProxyWorkers.start(workers, proxyOptions, controller.buildSnapshot()));
    }
    controller.attach(proxy);
    controller.run(2);
    log.info('ingress controller serving', { className, http: proxy.httpPort, https: proxy.httpsPort });
    return {
      httpPort: proxy.httpPort,
      httpsPort: proxy.httpsPort,
      snapshot: () => proxy.snapshot,
      settled: () => controller.settled(),
      dispose: () => owned.dispose(),
    };
  } catch (err) {
    await owned.dispose();
    throw err;
  }
}

/** The data plane, in this process or in workers. */
interface ProxyRuntime extends Disposable {
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly snapshot: ProxySnapshot;
  setSnapshot(snapshot: ProxySnapshot): void;
}

interface SyncerOptions {
  readonly className: string;
  readonly nodeIPs: readonly string[];
  readonly nodeName: string | undefined;
}

/** The control loop: informers → queue → sync (routes, IngressClass, statuses). */
export class IngressSyncer implements Disposable {
  readonly factory: SharedInformerFactory;
  readonly queue = new RateLimitingQueue<string>({ name: 'ingress' });
  readonly ingresses: SharedIndexInformer<Ingress>;
  readonly classes: SharedIndexInformer<IngressClass>;
  readonly services: SharedIndexInformer<Service>;
  readonly slices: SharedIndexInformer<EndpointSlice>;
  readonly secrets: SharedIndexInformer<Secret>;
  #opts: SyncerOptions;
  #ingressClient: ResourceClient<Ingress>;
  #classClient: ResourceClient<IngressClass>;
  #broadcaster: EventBroadcaster;
  #recorder: EventRecorder;
  #certs = new CertificateCache();
  #proxy: Pick<ProxyRuntime, 'setSnapshot'> | undefined;
  /** "namespace/name" of Services and Secrets the current routes use; other changes are ignored. */
  #usedServices = new Set<string>();
  #usedSecrets = new Set<string>();
  #busy = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(client: RestClient, opts: SyncerOptions) {
    this.#opts = opts;
    this.factory = new SharedInformerFactory(client, { transform: dropManagedFields });
    this.ingresses = this.factory.informerFor<Ingress>(INGRESSES);
    this.classes = this.factory.informerFor<IngressClass>(INGRESS_CLASSES);
    this.services = this.factory.informerFor<Service>(SERVICES);
    this.slices = this.factory.informerFor<EndpointSlice>(ENDPOINT_SLICES, { indexers: { [BY_SERVICE_INDEX]: sliceServiceIndex } });
    // Only TLS Secrets matter; the field selector keeps every other Secret out of memory.
    this.secrets = this.factory.informerFor<Secret>(SECRETS, { fieldSelector: `type=${TLS_SECRET_TYPE}` });
    this.#ingressClient = client.resource<Ingress>(INGRESSES);
    this.#classClient = client.resource<IngressClass>(INGRESS_CLASSES);
    this.#broadcaster = new EventBroadcaster({ client });
    this.#recorder = this.#broadcaster.newRecorder({ component: COMPONENT, ...(opts.nodeName ? { host: opts.nodeName } : {}) });

    this.ingresses.addEventHandler({
      onAdd: (ing) => this.#ingressChanged(undefined, ing),
      onUpdate: (old, ing) => this.#ingressChanged(old, ing),
      onDelete: () => this.queue.add(REBUILD_KEY),
    });
    this.classes.addEventHandler({
      onAdd: () => this.#classesChanged(),
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) this.#classesChanged();
      },
      onDelete: (obj) => {
        this.#classesChanged();
        if (unwrapTombstone(obj).metadata?.name === this.#opts.className) this.queue.add(CLASS_KEY);
      },
    });
    this.services.addEventHandler(this.#dependencyHandler<Service>(this.#usedServices, (s) => s.metadata?.name));
    this.slices.addEventHandler(this.#dependencyHandler<EndpointSlice>(this.#usedServices, (s) => s.metadata?.labels?.[SERVICE_NAME_LABEL]));
    this.secrets.addEventHandler(this.#dependencyHandler<Secret>(this.#usedSecrets, (s) => s.metadata?.name));
  }

  /** Starts the informers and queues the IngressClass check. */
  start(): void {
    this.queue.add(CLASS_KEY);
    this.factory.start();
  }

  /** Gives the syncer the proxy whose snapshot it maintains. */
  attach(proxy: Pick<ProxyRuntime, 'setSnapshot'>): void {
    this.#proxy = proxy;
  }

  /** Starts `workers` workers. */
  run(workers: number): void {
    for (let i = 0; i < workers; i++) void this.#worker();
  }

  /** Resolves when the queue is empty and no sync is running. */
  settled(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async dispose(): Promise<void> {
    this.queue.shutDown();
    await this.factory.dispose();
    await this.#broadcaster.dispose();
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** True when `ing` belongs to this controller's class (or has none while the class is default). */
  isOurs(ing: Ingress): boolean {
    const name = ing.spec?.ingressClassName;
    if (name) return name === this.#opts.className;
    const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
    if (legacy !== undefined) return legacy === this.#opts.className;
    const cls = this.classes.lister.get('', this.#opts.className);
    return cls?.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
  }

  /** The routing snapshot for the current caches; remembers which Services and Secrets it used. */
  buildSnapshot(): ProxySnapshot {
    const services = new Set<string>();
    const lookup = {
      service: (ns: string, name: string) => {
        services.add(`${ns}/${name}`);
        return this.services.lister.get(ns, name);
      },
      endpointSlices: (ns: string, name: string) => this.slices.indexer.byIndex(BY_SERVICE_INDEX, `${ns}/${name}`),
    };
    const ours = this.ingresses.lister.list().filter((i) => this.isOurs(i) && !i.metadata?.deletionTimestamp);
    const routes = buildRouteTable<Upstream>(ours, (ns, backend) => resolveBackend(ns, backend, lookup));
    const secrets = new Set<string>();
    for (const ref of routes.tls.values()) secrets.add(`${ref.namespace}/${ref.name}`);
    const certs = this.#certs.build(routes.tls, (ns, name) => this.secrets.lister.get(ns, name));
    replaceSet(this.#usedServices, services);
    replaceSet(this.#usedSecrets, secrets);
    return { routes, certs };
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.#busy++;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (err) {
        log.warn('ingress sync failed, will retry', { key, err: err instanceof Error ? err.message : String(err) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
        this.#busy--;
        if (this.#idle()) for (const w of this.#idleWaiters.splice(0)) w();
      }
    }
  }

  #idle(): boolean {
    return this.#busy === 0 && this.queue.len() === 0;
  }

  /** Handles one queue key. */
  async sync(key: string): Promise<void> {
    if (key === REBUILD_KEY) {
      if (this.#proxy) this.#proxy.setSnapshot(this.buildSnapshot());
      return;
    }
    if (key === CLASS_KEY) {
      await this.#ensureIngressClass();
      return;
    }
    await this.#syncStatus(key);
  }

  async #ensureIngressClass(): Promise<void> {
    const name = this.#opts.className;
    try {
      const existing = await this.#classClient.get(name);
      if (existing.spec?.controller !== INGRESS_CONTROLLER_NAME) {
        log.warn('IngressClass belongs to another controller; serving it anyway', { name, controller: existing.spec?.controller });
      }
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await this.#classClient.create({
        apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
        metadata: { name, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
        spec: { controller: INGRESS_CONTROLLER_NAME },
      });
      log.info('created IngressClass', { name });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  /** Writes status.loadBalancer of one Ingress: our node IPs when ours, cleared when it left us. */
  async #syncStatus(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ing = this.ingresses.lister.get(namespace, name);
    if (!ing || ing.metadata?.deletionTimestamp) return;
    const desired: IngressLoadBalancerIngress[] = this.#opts.nodeIPs.map((ip) => ({ ip }));
    const current = ing.status?.loadBalancer?.ingress ?? [];
    let next: IngressLoadBalancerIngress[] | null;
    if (this.isOurs(ing)) {
      if (sameAddresses(current, desired)) return;
      next = desired;
    } else {
      // An Ingress moved to another class keeps no address of ours.
      if (current.length === 0 || !sameAddresses(current, desired)) return;
      next = null;
    }
    try {
      await this.#ingressClient.inNamespace(namespace).patchStatus(name, 'merge', { status: { loadBalancer: { ingress: next } } });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  #ingressChanged(old: Ingress | undefined, ing: Ingress): void {
    if (old && old.metadata?.resourceVersion === ing.metadata?.resourceVersion) return;
    const key = `${ing.metadata?.namespace ?? ''}/${ing.metadata?.name ?? ''}`;
    const ours = this.isOurs(ing);
    // Status writes change only the status: they need no rebuild and deserve no event.
    const specChanged = !old || old.metadata?.generation !== ing.metadata?.generation || this.isOurs(old) !== ours
      || JSON.stringify(old.metadata?.annotations ?? {}) !== JSON.stringify(ing.metadata?.annotations ?? {});
    if (specChanged) {
      this.queue.add(REBUILD_KEY);
      if (ours) this.#recorder.event(ing as KubeObject, EventType.Normal, 'Sync', 'Scheduled for sync');
    }
    this.queue.add(key);
  }

  #classesChanged(): void {
    this.queue.add(REBUILD_KEY);
    // Whether class-less Ingresses are ours may have changed.
    for (const key of this.ingresses.indexer.listKeys()) this.queue.add(key);
  }

  #dependencyHandler<T extends KubeObject>(used: Set<string>, nameOf: (obj: T) => string | undefined) {
    const changed = (obj: T | DeletedFinalStateUnknown<T>): void => {
      const o = unwrapTombstone(obj);
      const name = nameOf(o);
      if (name !== undefined && used.has(`${o.metadata?.namespace ?? ''}/${name}`)) this.queue.add(REBUILD_KEY);
    };
    return {
      onAdd: (obj: T) => changed(obj),
      onUpdate: (old: T, cur: T) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) changed(cur);
      },
      onDelete: changed,
    };
  }
}

function sliceServiceIndex(slice: EndpointSlice): readonly string[] {
  const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return svc ? [`${slice.metadata?.namespace ?? ''}/${svc}`] : [];
}

function dropManagedFields(obj: KubeObject): KubeObject {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _drop, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function sameAddresses(a: readonly IngressLoadBalancerIngress[], b: readonly IngressLoadBalancerIngress[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => (x.ip ?? '') === (b[i]!.ip ?? '') && (x.hostname ?? '') === (b[i]!.hostname ?? ''));
}

function replaceSet(target: Set<string>, source: Set<string>): void {
  target.clear();
  for (const s of source) target.add(s);
}

/** The status addresses when none are configured: the bind address, else the first external IPv4. */
export function defaultNodeIPs(bindAddress: string | undefined): string[] {
  if (bindAddress && bindAddress !== '0.0.0.0' && bindAddress !== '::' && isIP(bindAddress) !== 0) return [bindAddress];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return [a.address];
  }
  return ['127.0.0.1'];
}
