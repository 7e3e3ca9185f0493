// Read access to the cluster objects plugins consult besides nodes and pods (namespaces, services and
// controllers for default spreading, PVCs/PVs/StorageClasses, PodDisruptionBudgets). The wiring step
// implements ClusterListers over informer caches; MemoryListers serves tests and benchmarks.

import type { ReplicaSet, StatefulSet } from '../../api/types/apps_v1.ts';
import type { Namespace, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController, Service } from '../../api/types/core_v1.ts';
import type { PodDisruptionBudget } from '../../api/types/policy_v1.ts';
import type { ObjectMeta } from '../../api/types/meta_v1.ts';
import type { StorageClass } from '../../api/types/storage_v1.ts';

/** The listers plugins read (informer caches in the wiring). */
export interface ClusterListers {
  namespace(name: string): Namespace | undefined;
  namespaces(): readonly Namespace[];
  services(namespace: string): readonly Service[];
  replicationController(namespace: string, name: string): ReplicationController | undefined;
  replicaSet(namespace: string, name: string): ReplicaSet | undefined;
  statefulSet(namespace: string, name: string): StatefulSet | undefined;
  persistentVolumeClaim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  persistentVolume(name: string): PersistentVolume | undefined;
  persistentVolumes(): readonly PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
  podDisruptionBudgets(): readonly PodDisruptionBudget[];
  /** The latest version of a pod, if the informer has it. */
  pod(namespace: string, name: string): Pod | undefined;
}

type Named = { metadata?: ObjectMeta };

function key(ns: string | undefined, name: string | undefined): string {
  return `${ns ?? ''}/${name ?? ''}`;
}

/** In-memory listers: objects are put in directly. */
export class MemoryListers implements ClusterListers {
  readonly namespaceMap = new Map<string, Namespace>();
  readonly serviceList: Service[] = [];
  readonly rcs = new Map<string, ReplicationController>();
  readonly rss = new Map<string, ReplicaSet>();
  readonly sss = new Map<string, StatefulSet>();
  readonly pvcs = new Map<string, PersistentVolumeClaim>();
  readonly pvs = new Map<string, PersistentVolume>();
  readonly classes = new Map<string, StorageClass>();
  readonly pdbs: PodDisruptionBudget[] = [];
  readonly pods = new Map<string, Pod>();

  /** Adds objects by their kind. */
  add(...objs: Array<Named & { kind?: string }>): this {
    for (const o of objs) {
      const k = key(o.metadata?.namespace, o.metadata?.name);
      switch (o.kind) {
        case 'Namespace': this.namespaceMap.set(o.metadata?.name ?? '', o as Namespace); break;
        case 'Service': this.serviceList.push(o as Service); break;
        case 'ReplicationController': this.rcs.set(k, o as ReplicationController); break;
        case 'ReplicaSet': this.rss.set(k, o as ReplicaSet); break;
        case 'StatefulSet': this.sss.set(k, o as StatefulSet); break;
        case 'PersistentVolumeClaim': this.pvcs.set(k, o as PersistentVolumeClaim); break;
        case 'PersistentVolume': this.pvs.set(o.metadata?.name ?? '', o as PersistentVolume); break;
        case 'StorageClass': this.classes.set(o.metadata?.name ?? '', o as StorageClass); break;
        case 'PodDisruptionBudget': this.pdbs.push(o as PodDisruptionBudget); break;
        case 'Pod': this.pods.set(k, o as Pod); break;
        default: throw new Error(`MemoryListers: unsupported kind ${JSON.stringify(o.kind)}`);
      }
    }
    return this;
  }

  namespace(name: string): Namespace | undefined {
    return this.namespaceMap.get(name);
  }

  namespaces(): readonly Namespace[] {
    return [...this.namespaceMap.values()];
  }

  services(namespace: string): readonly Service[] {
    return this.serviceList.filter((s) => (s.metadata?.namespace ?? '') === namespace);
  }

  replicationController(namespace: string, name: string): ReplicationController | undefined {
    return this.rcs.get(key(namespace, name));
  }

  replicaSet(namespace: string, name: string): ReplicaSet | undefined {
    return this.rss.get(key(namespace, name));
  }

  statefulSet(namespace: string, name: string): StatefulSet | undefined {
    return this.sss.get(key(namespace, name));
  }

  persistentVolumeClaim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.pvcs.get(key(namespace, name));
  }

  persistentVolume(name: string): PersistentVolume | undefined {
    return this.pvs.get(name);
  }

  persistentVolumes(): readonly PersistentVolume[] {
    return [...this.pvs.values()];
  }

  storageClass(name: string): StorageClass | undefined {
    return this.classes.get(name);
  }

  podDisruptionBudgets(): readonly PodDisruptionBudget[] {
    return this.pdbs;
  }

  pod(namespace: string, name: string): Pod | undefined {
    return this.pods.get(key(namespace, name));
  }
}
