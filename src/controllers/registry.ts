// The controller-manager contract: each controller registers a factory by upstream's name
// ("replicaset", "deployment", "garbage-collector", …); the manager (manager.ts) builds them with a
// shared context and runs them while it holds the leader lease. Controllers never import each other.
import type { Disposable } from '../base/disposable.ts';
import type { RestClient } from '../client/rest_client.ts';
import type { SharedInformerFactory } from '../client/informer_factory.ts';
import type { EventRecorder } from '../client/events.ts';
import type { Clock } from '../client/clock.ts';

/** Cluster-wide settings controllers need (from `tkube server` flags). */
export interface ControllerOptions {
  /** Pod network, split into per-node /24s by node IPAM. */
  readonly clusterCidr: string;
  readonly serviceCidr: string;
  /** PEM of the cluster CA, published as the kube-root-ca.crt ConfigMap. */
  readonly rootCaPem: string;
  /** Node monitor grace period (upstream 40 s) and pod eviction timeout settings. */
  readonly nodeMonitorGracePeriodMs?: number;
}

/** What every controller is built from. */
export interface ControllerContext {
  /** The API client (the only way to reach cluster state). */
  readonly client: RestClient;
  /** Shared informers: controllers ask for the resources they watch; the manager starts them. */
  readonly informers: SharedInformerFactory;
  /** An event recorder whose source component is the controller's name (e.g. "replicaset-controller"). */
  recorder(component: string): EventRecorder;
  readonly clock: Clock;
  readonly options: ControllerOptions;
}

/** A running controller: started once its informers synced, disposed on stop or lost leadership. */
export interface Controller extends Disposable {
  /** Starts the workers (returns once started; work continues until dispose). */
  run(workers: number): void | Promise<void>;
}

/** Builds a controller; register one per upstream controller name. */
export type ControllerFactory = (ctx: ControllerContext) => Controller;

/** A registered controller and its default worker count (upstream's concurrent-*-syncs). */
export interface ControllerEntry {
  readonly name: string;
  readonly factory: ControllerFactory;
  readonly workers: number;
}

const controllers = new Map<string, ControllerEntry>();

/** Registers a controller factory under upstream's controller name. */
export function registerController(name: string, factory: ControllerFactory, workers = 5): void {
  if (controllers.has(name)) throw new Error(`controller ${name} registered twice`);
  controllers.set(name, { name, factory, workers });
}

/** Every registered controller, in registration order. */
export function registeredControllers(): ControllerEntry[] {
  return [...controllers.values()];
}
