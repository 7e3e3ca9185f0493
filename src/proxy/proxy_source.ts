// Feeds a Proxier from shared informers, as kube-proxy's config package does: Services and
// EndpointSlices without the service-proxy-name or headless labels (upstream's selector), deletes
// unwrapped from tombstones, and the "synced" calls once each first list has been delivered.

import type { Disposable } from '../base/disposable.ts';
import type { SharedInformerFactory } from '../client/informer_factory.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { ResourceEventHandler } from '../client/shared_informer.ts';
import { unwrapTombstone, type DeletedFinalStateUnknown } from '../client/store.ts';
import type { EndpointSlice, EndpointSliceHandler, Service, ServiceHandler } from './types.ts';

/** Services with this label belong to another proxy (upstream's LabelServiceProxyName); we skip them. */
export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';
/** Set by the EndpointSlice controller on slices of headless Services, which get no rules. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** kube-proxy's list/watch selector for Services and EndpointSlices. */
export const PROXY_LABEL_SELECTOR = `!${SERVICE_PROXY_NAME_LABEL},!${HEADLESS_LABEL}`;

export const SERVICES = resourceDescriptor('v1', 'services');
export const ENDPOINT_SLICES = resourceDescriptor('discovery.k8s.io/v1', 'endpointslices');

function handler<T>(add: (o: T) => void, update: (a: T, b: T) => void, del: (o: T) => void): ResourceEventHandler<T> {
  return {
    onAdd: (o) => add(o),
    onUpdate: (a, b) => update(a, b),
    onDelete: (o: T | DeletedFinalStateUnknown<T>) => del(unwrapTombstone(o)),
  };
}

/** Registers `target` on the factory's Service and EndpointSlice informers; start the factory afterwards. */
export function feedProxier(factory: SharedInformerFactory, target: ServiceHandler & EndpointSliceHandler): Disposable {
  const services = factory.informerFor<Service>(SERVICES, { labelSelector: PROXY_LABEL_SELECTOR });
  const slices = factory.informerFor<EndpointSlice>(ENDPOINT_SLICES, { labelSelector: PROXY_LABEL_SELECTOR });
  let disposed = false;
  const regs = [
    services.addEventHandler(handler<Service>((s) => target.onServiceAdd(s), (a, b) => target.onServiceUpdate(a, b), (s) => target.onServiceDelete(s))),
    slices.addEventHandler(handler<EndpointSlice>((s) => target.onEndpointSliceAdd(s), (a, b) => target.onEndpointSliceUpdate(a, b), (s) => target.onEndpointSliceDelete(s))),
  ];
  void services.whenSynced().then(() => { if (!disposed) target.onServicesSynced(); });
  void slices.whenSynced().then(() => { if (!disposed) target.onEndpointSlicesSynced(); });
  return {
    dispose() {
      disposed = true;
      for (const r of regs) r.dispose();
    },
  };
}
