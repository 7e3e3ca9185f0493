// The kube-dns Service in kube-system that clients expect at the cluster DNS address. Each node's
// DNS server owns that address locally (a dummy interface, as NodeLocal DNSCache does), so the
// Service has no endpoints and carries the service-proxy-name label: the Service proxy leaves it alone.

import type { Service } from '../api/types/core_v1.ts';
import { logger } from '../base/log.ts';
import { isAlreadyExists, isNotFound } from '../client/api_errors.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { RestClient } from '../client/rest_client.ts';

const log = logger('dns');

/** Value of service.kubernetes.io/service-proxy-name on the kube-dns Service. */
export const KUBE_DNS_PROXY_NAME = 'tkube-dns';

/** The kube-dns Service object for `clusterIP`. */
export function kubeDnsService(clusterIP: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: {
        'k8s-app': 'kube-dns',
        'kubernetes.io/cluster-service': 'true',
        'kubernetes.io/name': 'tkube-dns',
        'service.kubernetes.io/service-proxy-name': KUBE_DNS_PROXY_NAME,
      },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
    },
  };
}

/** Creates kube-system/kube-dns at `clusterIP` unless it exists; warns when an existing one has another address. */
export async function ensureKubeDnsService(client: RestClient, clusterIP: string): Promise<Service> {
  const services = client.resource<Service>(resourceDescriptor('v1', 'services'), 'kube-system');
  try {
    const existing = await services.get('kube-dns');
    if (existing.spec?.clusterIP !== clusterIP) {
      log.warn('the kube-dns Service has another cluster IP than the cluster DNS address; pods will not reach it', { clusterIP: existing.spec?.clusterIP, clusterDNS: clusterIP });
    }
    return existing;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    const created = await services.create(kubeDnsService(clusterIP));
    log.info('created the kube-dns Service', { clusterIP });
    return created;
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return services.get('kube-dns');
  }
}
