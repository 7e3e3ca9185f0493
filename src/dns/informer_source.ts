// The cluster DNS's feeds from the API: a DnsSource over shared informers (Services, EndpointSlices,
// Namespaces, and Pods when pod records are verified), and the kube-dns ConfigMap in kube-system
// (stubDomains, upstreamNameservers) reloaded live into the server's forwarding configuration.

import type { ConfigMap, Namespace, Pod, Service } from '../api/types/core_v1.ts';
import type { EndpointSlice } from '../api/types/discovery_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import type { SharedInformerFactory } from '../client/informer_factory.ts';
import { resourceDescriptor, type ResourceDescriptor } from '../client/resource_descriptor.ts';
import type { SharedIndexInformer } from '../client/shared_informer.ts';
import { unwrapTombstone } from '../client/store.ts';
import { NO_FORWARDING, parseDnsConfigMap, type ForwardConfig, type Upstream } from './dns_config.ts';
import type { DnsEvent, DnsSource } from './types.ts';

const log = logger('dns');

/** Where upstream's kube-dns reads its stub domains and upstream nameservers. */
export const DNS_CONFIG_MAP = { namespace: 'kube-system', name: 'kube-dns' } as const;

type Kind = 'Service' | 'EndpointSlice' | 'Namespace' | 'Pod';

const KINDS: ReadonlyArray<[Kind, ResourceDescriptor]> = [
  ['Service', resourceDescriptor('v1', 'services')],
  ['EndpointSlice', resourceDescriptor('discovery.k8s.io/v1', 'endpointslices')],
  ['Namespace', resourceDescriptor('v1', 'namespaces')],
  ['Pod', resourceDescriptor('v1', 'pods')],
];

type AnyObject = Service | EndpointSlice | Namespace | Pod;

/** A DnsSource over the factory's informers; `pods` adds the Pod informer (podMode "verified"). */
export function informerDnsSource(factory: SharedInformerFactory, opts: { pods?: boolean } = {}): DnsSource {
  const informers = KINDS.filter(([kind]) => kind !== 'Pod' || opts.pods).map(([kind, desc]) => [kind, factory.informerFor<AnyObject>(desc)] as const);
  return {
    subscribe(handler: (event: DnsEvent) => void): Disposable {
      let disposed = false;
      const emit = (type: 'upsert' | 'delete', kind: Kind, object: AnyObject): void => {
        if (!disposed) handler({ type, kind, object } as DnsEvent);
      };
      const regs = informers.map(([kind, inf]) => inf.addEventHandler({
        onAdd: (o) => emit('upsert', kind, o),
        onUpdate: (_old, o) => emit('upsert', kind, o),
        onDelete: (o) => emit('delete', kind, unwrapTombstone(o)),
      }));
      void Promise.all(informers.map(([, inf]) => inf.whenSynced())).then(() => {
        if (!disposed) handler({ type: 'synced' });
      });
      return {
        dispose() {
          disposed = true;
          for (const r of regs) r.dispose();
        },
      };
    },
  };
}

/** Options of watchDnsConfigMap. */
export interface DnsConfigWatchOptions {
  readonly clusterDomain: string;
  /** Used when the ConfigMap names no upstreamNameservers (the node's resolv.conf; none in tests). */
  readonly nodeUpstreams: readonly Upstream[];
  /** Receives every valid configuration (NO_FORWARDING-with-node-upstreams when the ConfigMap is absent). */
  readonly onConfig: (config: ForwardConfig) => void;
}

/** Follows the kube-dns ConfigMap; an invalid one is logged and the last good configuration kept (kube-dns). */
export function watchDnsConfigMap(factory: SharedInformerFactory, o: DnsConfigWatchOptions): Disposable {
  const informer: SharedIndexInformer<ConfigMap> = factory.informerFor<ConfigMap>(resourceDescriptor('v1', 'configmaps'), {
    fieldSelector: `metadata.name=${DNS_CONFIG_MAP.name}`,
  });
  const ours = (cm: ConfigMap): boolean => cm.metadata?.namespace === DNS_CONFIG_MAP.namespace;
  const apply = (cm: ConfigMap | undefined): void => {
    const parsed = parseDnsConfigMap(cm?.data, { clusterDomain: o.clusterDomain, nodeUpstreams: o.nodeUpstreams });
    if (!parsed.ok) {
      log.warn('ignoring invalid DNS ConfigMap', { configMap: `${DNS_CONFIG_MAP.namespace}/${DNS_CONFIG_MAP.name}`, error: parsed.error });
      return;
    }
    log.info('DNS forwarding configured', { stubDomains: [...parsed.config.stubDomains.keys()], upstreams: parsed.config.upstreams.length });
    o.onConfig(parsed.config);
  };
  if (o.nodeUpstreams.length > 0) o.onConfig({ ...NO_FORWARDING, upstreams: o.nodeUpstreams });
  const reg = informer.addEventHandler({
    onAdd: (cm) => { if (ours(cm)) apply(cm); },
    onUpdate: (old, cm) => { if (ours(cm) && JSON.stringify(old.data) !== JSON.stringify(cm.data)) apply(cm); },
    onDelete: (cm) => { if (ours(unwrapTombstone(cm))) apply(undefined); },
  });
  return reg;
}
