// What a fresh cluster has before anyone writes: the namespaces default, kube-system, kube-public
// and kube-node-lease, the `kubernetes` Service (first service IP) with an endpoint at this
// server, and the default local-path StorageClass. Idempotent: only creates what is missing.
import { logger } from '../base/log.ts';
import { resourceFor } from '../api/resource_table.ts';
import { ApiError } from './errors.ts';
import type { GenericStore } from './registry/generic_store.ts';
import type { ResourceInfo } from '../api/resource_types.ts';
import { nthAddress } from './registry/service_alloc.ts';
import { reconcileBootstrapPolicy } from './authz/wiring.ts';

const log = logger('bootstrap');

/** Options of the bootstrap. */
export interface BootstrapOptions {
  storeFor(info: ResourceInfo): GenericStore;
  readonly serviceCidr: string;
  /** Address and port of this API server for the kubernetes endpoints. */
  readonly advertiseIP: string;
  readonly advertisePort: number;
}

async function ensure(store: GenericStore, namespace: string, obj: Record<string, unknown>): Promise<void> {
  const name = String((obj['metadata'] as Record<string, unknown>)['name']);
  try {
    await store.get(namespace, name);
    return;
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  try {
    await store.create(namespace, obj);
  } catch (err) {
    if (err instanceof ApiError && err.code === 409) return;
    throw err;
  }
}

/** Creates the built-in namespaces and the kubernetes Service/Endpoints. */
export async function bootstrapCluster(opts: BootstrapOptions): Promise<void> {
  const nsStore = opts.storeFor(resourceFor('', 'v1', 'namespaces')!);
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await ensure(nsStore, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  await reconcileBootstrapPolicy(opts.storeFor);
  const pcStore = opts.storeFor(resourceFor('scheduling.k8s.io', 'v1', 'priorityclasses')!);
  for (const [name, value, description] of [
    ['system-node-critical', 2000001000, 'Used for system critical pods that must not be moved from their current node.'],
    ['system-cluster-critical', 2000000000, 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.'],
  ] as const) {
    await ensure(pcStore, '', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, description, preemptionPolicy: 'PreemptLowerPriority' });
  }
  await ensureLocalPathStorage(opts);
  const ip = nthAddress(opts.serviceCidr, 1);
  await ensure(opts.storeFor(resourceFor('', 'v1', 'services')!), 'default', {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: ip, sessionAffinity: 'None', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: opts.advertisePort }] },
  });
  const epStore = opts.storeFor(resourceFor('', 'v1', 'endpoints')!);
  const endpoints = {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: opts.advertiseIP }], ports: [{ name: 'https', port: opts.advertisePort, protocol: 'TCP' }] }],
  };
  await epStore.update('default', 'kubernetes', (current) => {
    if (!current) return structuredClone(endpoints);
    return { ...current, subsets: endpoints.subsets };
  });
  // The kubernetes EndpointSlice, which upstream's API server writes itself (no controller owns it).
  const esStore = opts.storeFor(resourceFor('discovery.k8s.io', 'v1', 'endpointslices')!);
  await esStore.update('default', 'kubernetes', (current) => ({
    ...(current ?? {}),
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { ...((current?.['metadata'] ?? {}) as object), name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [opts.advertiseIP], conditions: { ready: true } }],
    ports: [{ name: 'https', port: opts.advertisePort, protocol: 'TCP' }],
  }));
  log.debug('bootstrap objects present', { kubernetesServiceIP: ip });
}

/**
 * The built-in local-path StorageClass (default, WaitForFirstConsumer) and the rights its node-side
 * provisioner needs as the node: watch claims and classes, create and delete the volumes it makes.
 */
async function ensureLocalPathStorage(opts: BootstrapOptions): Promise<void> {
  await ensure(opts.storeFor(resourceFor('storage.k8s.io', 'v1', 'storageclasses')!), '', {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
    metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'tkube.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
  });
  const name = 'system:tkube:local-path-provisioner';
  await ensure(opts.storeFor(resourceFor('rbac.authorization.k8s.io', 'v1', 'clusterroles')!), '', {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    rules: [
      { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
      { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
    ],
  });
  await ensure(opts.storeFor(resourceFor('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings')!), '', {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }],
  });
}
