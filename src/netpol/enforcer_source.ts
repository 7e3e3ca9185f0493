// Feeds a NetworkPolicyEnforcer from shared informers: every Pod (peers may live on any node),
// Namespace and NetworkPolicy, deletes unwrapped from tombstones, and the "synced" calls once each
// first list has been delivered, after which the enforcer starts syncing.

import type { Namespace, Pod } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import type { SharedInformerFactory } from '../client/informer_factory.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import type { SharedIndexInformer } from '../client/shared_informer.ts';
import { unwrapTombstone } from '../client/store.ts';
import type { NetworkPolicyEnforcer } from './enforcer.ts';
import type { NetworkPolicy } from './types.ts';

const PODS = resourceDescriptor('v1', 'pods');
const NAMESPACES = resourceDescriptor('v1', 'namespaces');
const NETWORK_POLICIES = resourceDescriptor('networking.k8s.io/v1', 'networkpolicies');

type Target = Pick<NetworkPolicyEnforcer,
  'onPodAdd' | 'onPodUpdate' | 'onPodDelete' | 'onPodsSynced' |
  'onNamespaceAdd' | 'onNamespaceUpdate' | 'onNamespaceDelete' | 'onNamespacesSynced' |
  'onNetworkPolicyAdd' | 'onNetworkPolicyUpdate' | 'onNetworkPolicyDelete' | 'onNetworkPoliciesSynced'>;

/** Registers `target` on the factory's informers; start the factory afterwards. */
export function feedEnforcer(factory: SharedInformerFactory, target: Target): Disposable {
  let disposed = false;
  const regs: Disposable[] = [];
  const follow = <T extends Pod | Namespace | NetworkPolicy>(
    informer: SharedIndexInformer<T>,
    add: (o: T) => void, update: (a: T, b: T) => void, del: (o: T) => void, synced: () => void,
  ): void => {
    regs.push(informer.addEventHandler({ onAdd: add, onUpdate: update, onDelete: (o) => del(unwrapTombstone(o)) }));
    void informer.whenSynced().then(() => { if (!disposed) synced(); });
  };
  follow(factory.informerFor<Pod>(PODS), (p) => target.onPodAdd(p), (a, b) => target.onPodUpdate(a, b), (p) => target.onPodDelete(p), () => target.onPodsSynced());
  follow(factory.informerFor<Namespace>(NAMESPACES), (n) => target.onNamespaceAdd(n), (a, b) => target.onNamespaceUpdate(a, b), (n) => target.onNamespaceDelete(n), () => target.onNamespacesSynced());
  follow(factory.informerFor<NetworkPolicy>(NETWORK_POLICIES), (p) => target.onNetworkPolicyAdd(p), (a, b) => target.onNetworkPolicyUpdate(a, b), (p) => target.onNetworkPolicyDelete(p), () => target.onNetworkPoliciesSynced());
  return {
    dispose() {
      disposed = true;
      for (const r of regs) r.dispose();
    },
  };
}
