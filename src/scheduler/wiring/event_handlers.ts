// The informer event handlers of the scheduler (eventhandlers.go addAllEventHandlers): pods and
// nodes go to the Scheduler's handlers (which split assigned pods into the cache and pending ones
// into the queue), volume objects become cluster events that may requeue rejected pods.

import type { Disposable } from '../../base/disposable.ts';
import type { KubeObject } from '../../client/resource_client.ts';
import type { ResourceEventHandler, SharedIndexInformer } from '../../client/shared_informer.ts';
import { unwrapTombstone } from '../../client/store.ts';
import { ActionType, EventResource } from '../framework/interface.ts';
import type { Scheduler } from '../scheduler.ts';
import type { SchedulerInformers } from './informers.ts';

function clusterEventHandler<T extends KubeObject>(sched: Scheduler, resource: EventResource, label: string): ResourceEventHandler<T> {
  return {
    onAdd: (obj) => sched.onClusterEvent({ resource, actionType: ActionType.Add, label: `${label}Add` }, null, obj),
    onUpdate: (oldObj, newObj) => {
      // Resyncs and relists repeat the same version; nothing changed for a rejected pod.
      if (oldObj.metadata?.resourceVersion !== undefined && oldObj.metadata.resourceVersion === newObj.metadata?.resourceVersion) return;
      sched.onClusterEvent({ resource, actionType: ActionType.Update, label: `${label}Update` }, oldObj, newObj);
    },
    onDelete: (obj) => sched.onClusterEvent({ resource, actionType: ActionType.Delete, label: `${label}Delete` }, unwrapTombstone(obj), null),
  };
}

/** Connects `informers` to `sched`; dispose removes the handlers. */
export function addAllEventHandlers(sched: Scheduler, informers: SchedulerInformers): Disposable {
  const regs = [
    informers.pods.addEventHandler({
      onAdd: (pod) => sched.onPodAdd(pod),
      onUpdate: (oldPod, newPod) => sched.onPodUpdate(oldPod, newPod),
      onDelete: (pod) => sched.onPodDelete(unwrapTombstone(pod)),
    }),
    informers.nodes.addEventHandler({
      onAdd: (node) => sched.onNodeAdd(node),
      onUpdate: (oldNode, newNode) => sched.onNodeUpdate(oldNode, newNode),
      onDelete: (node) => sched.onNodeDelete(unwrapTombstone(node)),
    }),
    addClusterEvents(informers.persistentVolumes, sched, EventResource.PersistentVolume, 'PersistentVolume'),
    addClusterEvents(informers.persistentVolumeClaims, sched, EventResource.PersistentVolumeClaim, 'PersistentVolumeClaim'),
    addClusterEvents(informers.storageClasses, sched, EventResource.StorageClass, 'StorageClass'),
    addClusterEvents(informers.namespaces, sched, EventResource.Namespace, 'Namespace'),
  ];
  return { dispose: () => regs.forEach((r) => r.dispose()) };
}

function addClusterEvents<T extends KubeObject>(informer: SharedIndexInformer<T>, sched: Scheduler, resource: EventResource, label: string): Disposable {
  return informer.addEventHandler(clusterEventHandler<T>(sched, resource, label));
}
