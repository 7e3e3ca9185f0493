// The scheduler's informers (kube-scheduler's informer factory): one pod informer over every
// non-terminal pod (upstream's phase field selector; handlers split assigned from pending pods),
// nodes, and what the default plugins read, exposed to them through the ClusterListers seam.

import type { ReplicaSet, StatefulSet } from '../../api/types/apps_v1.ts';
import type {
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ReplicationController,
  Service,
} from '../../api/types/core_v1.ts';
import type { PodDisruptionBudget } from '../../api/types/policy_v1.ts';
import type { StorageClass } from '../../api/types/storage_v1.ts';
import type { SharedInformerFactory } from '../../client/informer_factory.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import type { ClusterListers } from '../framework/listers.ts';

/** Upstream's pod informer selector: terminal pods hold no resources and need no scheduling. */
export const POD_FIELD_SELECTOR = 'status.phase!=Succeeded,status.phase!=Failed';

/** Every informer the scheduler runs. */
export interface SchedulerInformers {
  readonly pods: SharedIndexInformer<Pod>;
  readonly nodes: SharedIndexInformer<Node>;
  readonly namespaces: SharedIndexInformer<Namespace>;
  readonly services: SharedIndexInformer<Service>;
  readonly replicationControllers: SharedIndexInformer<ReplicationController>;
  readonly replicaSets: SharedIndexInformer<ReplicaSet>;
  readonly statefulSets: SharedIndexInformer<StatefulSet>;
  readonly persistentVolumeClaims: SharedIndexInformer<PersistentVolumeClaim>;
  readonly persistentVolumes: SharedIndexInformer<PersistentVolume>;
  readonly storageClasses: SharedIndexInformer<StorageClass>;
  readonly podDisruptionBudgets: SharedIndexInformer<PodDisruptionBudget>;
}

/** The scheduler never reads managedFields; dropping them roughly halves the pod cache. */
export function stripManagedFields(obj: KubeObject): KubeObject {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** Requests the scheduler's informers from `factory` (start the factory afterwards). */
export function schedulerInformers(factory: SharedInformerFactory): SchedulerInformers {
  const get = <T extends KubeObject>(apiVersion: string, resource: string, fieldSelector?: string): SharedIndexInformer<T> =>
    factory.informerFor<T>(resourceDescriptor(apiVersion, resource), fieldSelector !== undefined ? { fieldSelector } : {});
  return {
    pods: get<Pod>('v1', 'pods', POD_FIELD_SELECTOR),
    nodes: get<Node>('v1', 'nodes'),
    namespaces: get<Namespace>('v1', 'namespaces'),
    services: get<Service>('v1', 'services'),
    replicationControllers: get<ReplicationController>('v1', 'replicationcontrollers'),
    replicaSets: get<ReplicaSet>('apps/v1', 'replicasets'),
    statefulSets: get<StatefulSet>('apps/v1', 'statefulsets'),
    persistentVolumeClaims: get<PersistentVolumeClaim>('v1', 'persistentvolumeclaims'),
    persistentVolumes: get<PersistentVolume>('v1', 'persistentvolumes'),
    storageClasses: get<StorageClass>('storage.k8s.io/v1', 'storageclasses'),
    podDisruptionBudgets: get<PodDisruptionBudget>('policy/v1', 'poddisruptionbudgets'),
  };
}

/** ClusterListers over the informer caches. */
export class InformerListers implements ClusterListers {
  readonly #i: SchedulerInformers;

  constructor(informers: SchedulerInformers) {
    this.#i = informers;
  }

  namespace(name: string): Namespace | undefined {
    return this.#i.namespaces.lister.get('', name);
  }

  namespaces(): readonly Namespace[] {
    return this.#i.namespaces.lister.list();
  }

  services(namespace: string): readonly Service[] {
    return this.#i.services.lister.listNamespace(namespace);
  }

  replicationController(namespace: string, name: string): ReplicationController | undefined {
    return this.#i.replicationControllers.lister.get(namespace, name);
  }

  replicaSet(namespace: string, name: string): ReplicaSet | undefined {
    return this.#i.replicaSets.lister.get(namespace, name);
  }

  statefulSet(namespace: string, name: string): StatefulSet | undefined {
    return this.#i.statefulSets.lister.get(namespace, name);
  }

  persistentVolumeClaim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.#i.persistentVolumeClaims.lister.get(namespace, name);
  }

  persistentVolume(name: string): PersistentVolume | undefined {
    return this.#i.persistentVolumes.lister.get('', name);
  }

  persistentVolumes(): readonly PersistentVolume[] {
    return this.#i.persistentVolumes.lister.list();
  }

  storageClass(name: string): StorageClass | undefined {
    return this.#i.storageClasses.lister.get('', name);
  }

  podDisruptionBudgets(): readonly PodDisruptionBudget[] {
    return this.#i.podDisruptionBudgets.lister.list();
  }

  pod(namespace: string, name: string): Pod | undefined {
    return this.#i.pods.lister.get(namespace, name);
  }
}
