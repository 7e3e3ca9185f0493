// The EndpointSlice controller (upstream pkg/controller/endpointslice): for every Service with a
// selector, EndpointSlices labelled kubernetes.io/service-name list the selected pods with ready,
// serving and terminating conditions, at most 100 endpoints per slice, one slice set per port set.
import { logger } from '../../base/log.ts';
import { labelSelectorAsSelector, matches, selectorFromSet } from '../../api/labels.ts';
import type { Node, Pod, Service } from '../../api/types/core_v1.ts';
import type { Endpoint, EndpointPort, EndpointSlice } from '../../api/types/discovery_v1.ts';
import { isNotFound } from '../../client/api_errors.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { joinKey, metaNamespaceKey, splitKey, unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { findPort, isPodReady, podIpOfFamily, serviceIpFamily, shouldPodBeInEndpoints } from '../endpoint_pod_util.ts';
import { CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MAX_ENDPOINTS_PER_SLICE, reconcile, portsKey, type EndpointGroup } from './reconciler.ts';
import { TriggerTimeTracker } from '../trigger_time_tracker.ts';

const log = logger('endpointslice-controller');

const SERVICE_INDEX = 'serviceName';
/** How long a sync waits for the cache to show this controller's own writes. */
const STALE_WAIT_MS = 30_000;
/** Node label holding the zone an endpoint reports. */
const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** Raised when the slice cache has not caught up with this controller's own writes yet. */
export class StaleInformerCache extends Error {
  constructor(key: string) {
    super(`EndpointSlice informer cache is out of date for service ${key}`);
    this.name = 'StaleInformerCache';
  }
}

/** Options of the controller beyond the context. */
export interface EndpointSliceControllerOptions {
  readonly maxEndpointsPerSlice?: number;
}

/** Keeps each selector Service's EndpointSlices in step with its pods. */
export class EndpointSliceController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly services: SharedIndexInformer<Service>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly nodes: SharedIndexInformer<Node>;
  readonly slices: SharedIndexInformer<EndpointSlice>;
  readonly triggerTimes = new TriggerTimeTracker();
  #client: ResourceClient<EndpointSlice>;
  #recorder: EventRecorder;
  #max: number;
  #handlers: HandlerRegistration[] = [];
  /** Service key -> slice name -> the resourceVersion we wrote ('' once deleted) and when. */
  #written = new Map<string, Map<string, { rv: string; at: number }>>();
  #clock: ControllerContext['clock'];

  constructor(ctx: ControllerContext, opts: EndpointSliceControllerOptions = {}) {
    this.#max = opts.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
    this.#clock = ctx.clock;
    this.queue = new RateLimitingQueue<string>({ name: 'endpoint_slice', clock: ctx.clock });
    this.services = ctx.informers.informerFor<Service>(resourceDescriptor('v1', 'services'));
    this.pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    this.nodes = ctx.informers.informerFor<Node>(resourceDescriptor('v1', 'nodes'));
    this.slices = ctx.informers.informerFor<EndpointSlice>(resourceDescriptor('discovery.k8s.io/v1', 'endpointslices'), {
      labelSelector: `${LABEL_MANAGED_BY}=${CONTROLLER_NAME}`,
      indexers: { [SERVICE_INDEX]: (s) => [joinKey(s.metadata?.namespace ?? '', s.metadata?.labels?.[LABEL_SERVICE_NAME] ?? '')] },
    });
    this.#client = ctx.client.resource<EndpointSlice>(resourceDescriptor('discovery.k8s.io/v1', 'endpointslices'));
    this.#recorder = ctx.recorder('endpoint-slice-controller');
    this.#handlers.push(this.services.addEventHandler({
      onAdd: (svc) => this.queue.add(metaNamespaceKey(svc)),
      onUpdate: (_old, svc) => this.queue.add(metaNamespaceKey(svc)),
      onDelete: (obj) => this.queue.add(metaNamespaceKey(unwrapTombstone(obj))),
    }));
    this.#handlers.push(this.pods.addEventHandler({
      onAdd: (pod) => this.#enqueueServicesOf(pod),
      onUpdate: (old, pod) => {
        if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
        this.#enqueueServicesOf(pod);
        if (JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {})) this.#enqueueServicesOf(old);
      },
      onDelete: (obj) => this.#enqueueServicesOf(unwrapTombstone(obj)),
    }));
    const sliceChanged = (s: EndpointSlice): void => {
      const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      if (svc) this.queue.add(joinKey(s.metadata?.namespace ?? '', svc));
    };
    this.#handlers.push(this.slices.addEventHandler({
      onAdd: sliceChanged,
      onUpdate: (_old, s) => sliceChanged(s),
      onDelete: (obj) => sliceChanged(unwrapTombstone(obj)),
    }));
  }

  #enqueueServicesOf(pod: Pod): void {
    for (const svc of this.services.lister.listNamespace(pod.metadata?.namespace ?? '')) {
      const sel = svc.spec?.selector;
      if (sel !== undefined && sel !== null && matches(selectorFromSet(sel), pod.metadata?.labels)) this.queue.add(metaNamespaceKey(svc));
    }
  }

  run(workers: number): void {
    for (let i = 0; i < workers; i++) void this.#worker();
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (err) {
        if (!(err instanceof StaleInformerCache)) log.warn('sync failed, will retry', { service: key, err });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Reconciles the EndpointSlices of Service `key` ("namespace/name"). */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.lister.get(namespace, name);
    if (!svc) {
      // Slices go with their owner through the garbage collector, as upstream relies on.
      this.triggerTimes.deleteService(key);
      this.#written.delete(key);
      return;
    }
    if (svc.spec?.selector === undefined || svc.spec.selector === null || svc.spec.type === 'ExternalName') return;
    const existing = this.slices.indexer.byIndex(SERVICE_INDEX, key);
    this.#checkFresh(key, existing);

    const pods = this.pods.lister.listNamespace(namespace, labelSelectorAsSelector({ matchLabels: svc.spec.selector }));
    const triggerTime = this.triggerTimes.computeEndpointLastChangeTriggerTime(key, svc, pods);
    const addressType = serviceIpFamily(svc);
    const groups = this.desiredGroups(svc, pods, addressType);
    const result = reconcile(svc, groups, existing, { addressType, maxEndpointsPerSlice: this.#max, ...(triggerTime !== undefined ? { triggerTime } : {}) });
    const written = this.#written.get(key) ?? new Map<string, { rv: string; at: number }>();
    const now = this.#clock.now();
    this.#written.set(key, written);
    try {
      for (const s of result.create) {
        const made = await this.#client.create(s);
        written.set(made.metadata?.name ?? '', { rv: made.metadata?.resourceVersion ?? '', at: now });
      }
      for (const s of result.update) {
        const made = await this.#client.update(s);
        written.set(made.metadata?.name ?? '', { rv: made.metadata?.resourceVersion ?? '', at: now });
      }
      for (const s of result.delete) {
        try {
          await this.#client.inNamespace(namespace).delete(s.metadata?.name ?? '');
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        written.set(s.metadata?.name ?? '', { rv: '', at: now });
      }
    } catch (err) {
      this.#recorder.eventf(svc, EventType.Warning, 'FailedToUpdateEndpointSlices', 'Error updating Endpoint Slices for Service %s/%s: %v', namespace, name, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  /** The endpoints of `pods` for `svc`, grouped by their resolved port sets. */
  desiredGroups(svc: Service, pods: readonly Pod[], addressType: 'IPv4' | 'IPv6'): EndpointGroup[] {
    const groups = new Map<string, { ports: EndpointPort[]; endpoints: Endpoint[] }>();
    const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ip = podIpOfFamily(pod, addressType);
      if (!ip) continue;
      const ports: EndpointPort[] = [];
      for (const sp of svc.spec?.ports ?? []) {
        const port = findPort(pod, sp);
        if (typeof port === 'string') continue;
        const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
        if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
        ports.push(ep);
      }
      const serving = isPodReady(pod);
      const terminating = pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
      // Terminating pods are never "ready" unless the Service publishes not-ready addresses.
      const ready = (publishNotReady || serving) && (!terminating || publishNotReady);
      const endpoint: Endpoint = { addresses: [ip], conditions: { ready, serving, terminating } };
      if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace) {
        endpoint.hostname = pod.spec.hostname;
      }
      endpoint.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
      if (pod.spec?.nodeName) {
        endpoint.nodeName = pod.spec.nodeName;
        const zone = this.nodes.lister.get('', pod.spec.nodeName)?.metadata?.labels?.[ZONE_LABEL];
        if (zone) endpoint.zone = zone;
      }
      const k = portsKey(ports);
      let g = groups.get(k);
      if (!g) groups.set(k, g = { ports, endpoints: [] });
      g.endpoints.push(endpoint);
    }
    return [...groups.values()];
  }

  /** Throws StaleInformerCache while the cache still misses one of our own writes. */
  #checkFresh(key: string, cached: readonly EndpointSlice[]): void {
    const written = this.#written.get(key);
    if (!written) return;
    const byName = new Map(cached.map((s) => [s.metadata?.name ?? '', s.metadata?.resourceVersion ?? '']));
    for (const [name, { rv, at }] of [...written]) {
      const have = byName.get(name);
      const caughtUp = rv === '' ? have === undefined : have !== undefined && !olderThan(have, rv);
      // Someone else may have removed what we wrote before we saw it: stop waiting after a while.
      if (!caughtUp && this.#clock.now() - at < STALE_WAIT_MS) throw new StaleInformerCache(key);
      written.delete(name);
    }
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

function olderThan(a: string, b: string): boolean {
  if (/^[0-9]+$/.test(a) && /^[0-9]+$/.test(b)) return BigInt(a) < BigInt(b);
  return a !== b;
}

registerController('endpointslice', (ctx) => new EndpointSliceController(ctx), 5);
