// The Endpoints controller (upstream pkg/controller/endpoint/endpoints_controller.go): for every
// Service with a selector, the Endpoints object of the same name lists the selected pods' addresses
// (ready ones under addresses, others under notReadyAddresses) for each resolved port set.
import { isDeepStrictEqual } from 'node:util';
import { logger } from '../../base/log.ts';
import { labelSelectorAsSelector, matches, selectorFromSet } from '../../api/labels.ts';
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from '../../api/types/core_v1.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import { isAlreadyExists, isNotFound } from '../../client/api_errors.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { metaNamespaceKey, splitKey, unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { findPort, isHeadless, isPodReady, podIpOfFamily, serviceIpFamily, shouldPodBeInEndpoints } from '../endpoint_pod_util.ts';
import { TriggerTimeTracker } from '../trigger_time_tracker.ts';
import { runWorkers } from '../controller_utils.ts';

const log = logger('endpoints-controller');

/** Annotation with the time of the change the Endpoints reflect. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Annotation set when addresses were dropped to stay under the capacity. */
export const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
/** Label marking the Endpoints of headless Services. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** Most addresses one Endpoints object carries (maxCapacity). */
export const MAX_ENDPOINTS_CAPACITY = 1000;

/** Keeps each selector Service's Endpoints in step with its pods. */
export class EndpointsController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly services: SharedIndexInformer<Service>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly endpoints: SharedIndexInformer<Endpoints>;
  readonly triggerTimes = new TriggerTimeTracker();
  #client: ResourceClient<Endpoints>;
  #recorder: EventRecorder;
  #handlers: HandlerRegistration[] = [];

  constructor(ctx: ControllerContext) {
    this.queue = new RateLimitingQueue<string>({ name: 'endpoint', clock: ctx.clock });
    this.services = ctx.informers.informerFor<Service>(resourceDescriptor('v1', 'services'));
    this.pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    this.endpoints = ctx.informers.informerFor<Endpoints>(resourceDescriptor('v1', 'endpoints'));
    this.#client = ctx.client.resource<Endpoints>(resourceDescriptor('v1', 'endpoints'));
    this.#recorder = ctx.recorder('endpoint-controller');
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
    this.#handlers.push(this.endpoints.addEventHandler({
      // Someone deleted Endpoints we manage: put them back.
      onDelete: (obj) => {
        const ep = unwrapTombstone(obj);
        if (this.services.lister.get(ep.metadata?.namespace ?? '', ep.metadata?.name ?? '')) this.queue.add(metaNamespaceKey(ep));
      },
    }));
  }

  #enqueueServicesOf(pod: Pod): void {
    for (const svc of this.#servicesSelecting(pod)) this.queue.add(metaNamespaceKey(svc));
  }

  #servicesSelecting(pod: Pod): Service[] {
    return this.services.lister.listNamespace(pod.metadata?.namespace ?? '').filter((svc) => {
      const sel = svc.spec?.selector;
      return sel !== undefined && sel !== null && matches(selectorFromSet(sel), pod.metadata?.labels);
    });
  }

  run(workers: number): void {
    void runWorkers(this.queue, workers, (key) => this.sync(key), (key, err) => log.warn('sync failed, will retry', { service: key, err }));
  }

  /** Reconciles the Endpoints of Service `key` ("namespace/name"). */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.lister.get(namespace, name);
    if (!svc) {
      // The Service is gone: so are its Endpoints (a NotFound means someone was faster).
      this.triggerTimes.deleteService(key);
      try {
        await this.#client.inNamespace(namespace).delete(name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    // Services without a selector have Endpoints their owner writes (the kubernetes Service, manual ones).
    if (svc.spec?.selector === undefined || svc.spec.selector === null) return;
    if (svc.spec.type === 'ExternalName') return;

    const pods = this.pods.lister.listNamespace(namespace, labelSelectorAsSelector({ matchLabels: svc.spec.selector }));
    const triggerTime = this.triggerTimes.computeEndpointLastChangeTriggerTime(key, svc, pods);
    const { subsets, truncated } = computeSubsets(svc, pods);

    const current = this.endpoints.lister.get(namespace, name);
    const labels: Record<string, string> = { ...svc.metadata?.labels };
    if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
    else delete labels[HEADLESS_LABEL];
    const annotations: Record<string, string> = { ...current?.metadata?.annotations };
    if (truncated) annotations[OVER_CAPACITY] = 'truncated';
    else delete annotations[OVER_CAPACITY];

    if (current && sameJson(current.subsets ?? [], subsets) && sameJson(current.metadata?.labels ?? {}, labels)
      && (current.metadata?.annotations?.[OVER_CAPACITY] === 'truncated') === truncated) {
      return;
    }
    if (triggerTime !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = triggerTime;
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];

    const desired: Endpoints = current
      ? structuredClone(current)
      : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    desired.metadata = { ...desired.metadata, labels, annotations };
    if (Object.keys(annotations).length === 0) delete desired.metadata.annotations;
    if (subsets.length > 0) desired.subsets = subsets;
    else delete desired.subsets;
    try {
      if (current) await this.#client.update(desired);
      else await this.#client.create(desired);
    } catch (err) {
      // A create racing an informer that has not seen the object yet: retry through the queue.
      if (!current && isAlreadyExists(err)) throw err;
      this.#recorder.eventf(svc, EventType.Warning, current ? 'FailedToUpdateEndpoint' : 'FailedToCreateEndpoint',
        current ? 'Failed to update endpoint %s/%s: %v' : 'Failed to create endpoint for service %s/%s: %v', namespace, name, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

/** The Endpoints subsets of `svc` over `pods`, repacked by port set; `truncated` when over capacity. */
export function computeSubsets(svc: Service, pods: readonly Pod[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const family = serviceIpFamily(svc);
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  const add = (ports: EndpointPort[], addr: EndpointAddress, ready: boolean): void => {
    const k = JSON.stringify(ports);
    let g = groups.get(k);
    if (!g) groups.set(k, g = { ports, ready: [], notReady: [] });
    (ready ? g.ready : g.notReady).push(addr);
  };
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const ip = podIpOfFamily(pod, family);
    if (!ip) continue;
    const addr: EndpointAddress = { ip };
    if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
    addr.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
    if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace) {
      addr.hostname = pod.spec.hostname;
    }
    const ready = tolerateUnready || isPodReady(pod);
    const svcPorts = svc.spec?.ports ?? [];
    if (svcPorts.length === 0) {
      // Headless Services without ports still publish their addresses (for DNS).
      if (isHeadless(svc)) add([], addr, ready);
      continue;
    }
    // Each port is its own subset before repacking, as upstream builds them.
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      if (typeof port === 'string') continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      add([ep], structuredClone(addr), ready);
    }
  }
  // Repack: addresses that share exactly the same ports end up in one subset with all those ports.
  const byAddress = new Map<string, { addr: EndpointAddress; ready: boolean; ports: EndpointPort[] }>();
  for (const g of groups.values()) {
    for (const [list, ready] of [[g.ready, true], [g.notReady, false]] as const) {
      for (const a of list) {
        const k = `${ready ? 'r' : 'n'}|${a.ip}|${a.targetRef?.uid ?? ''}`;
        const e = byAddress.get(k);
        if (e) e.ports.push(...g.ports);
        else byAddress.set(k, { addr: a, ready, ports: [...g.ports] });
      }
    }
  }
  const subsetsByPorts = new Map<string, EndpointSubset>();
  for (const { addr, ready, ports } of byAddress.values()) {
    ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || (a.protocol ?? '').localeCompare(b.protocol ?? ''));
    const k = JSON.stringify(ports);
    let ss = subsetsByPorts.get(k);
    if (!ss) {
      ss = {};
      if (ports.length > 0) ss.ports = ports;
      subsetsByPorts.set(k, ss);
    }
    if (ready) (ss.addresses ??= []).push(addr);
    else (ss.notReadyAddresses ??= []).push(addr);
  }
  const subsets = [...subsetsByPorts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ss]) => ss);
  for (const ss of subsets) {
    ss.addresses?.sort(lessAddress);
    ss.notReadyAddresses?.sort(lessAddress);
  }
  return truncate(subsets);
}

function lessAddress(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '', ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/** Keeps at most MAX_ENDPOINTS_CAPACITY addresses, ready ones first, each subset trimmed in proportion. */
function truncate(subsets: EndpointSubset[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const total = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
  if (total <= MAX_ENDPOINTS_CAPACITY) return { subsets, truncated: false };
  let budget = MAX_ENDPOINTS_CAPACITY;
  for (const key of ['addresses', 'notReadyAddresses'] as const) {
    for (const s of subsets) {
      const list = s[key];
      if (!list) continue;
      if (list.length > budget) s[key] = list.slice(0, budget);
      budget -= s[key]!.length;
      if (s[key]!.length === 0) delete s[key];
    }
  }
  return { subsets: subsets.filter((s) => s.addresses || s.notReadyAddresses), truncated: true };
}

function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

registerController('endpoint', (ctx) => new EndpointsController(ctx), 5);
