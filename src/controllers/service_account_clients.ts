// Per-controller credentials (upstream's --use-service-account-credentials and its
// SAControllerClientBuilder): each controller talks to the API server as the ServiceAccount
// kube-system/<name> that the bootstrap policy binds to system:controller:<name>, with a bound
// token from the TokenRequest API that is renewed before it expires.
import type { ServiceAccount } from '../api/types/core_v1.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { isAlreadyExists, isNotFound } from '../client/api_errors.ts';
import { realClock, type Clock, type ClockTimer } from '../client/clock.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import { RestClient, type RestClientOptions } from '../client/rest_client.ts';
import { errMessage } from './controller_utils.ts';

const log = logger('controller-manager');

/** The ServiceAccount each controller runs as (upstream's ClientBuilder names); unlisted ones use the manager's own identity. */
export const CONTROLLER_SERVICE_ACCOUNTS: Readonly<Record<string, string>> = {
  replicaset: 'replicaset-controller',
  replicationcontroller: 'replication-controller',
  deployment: 'deployment-controller',
  garbagecollector: 'generic-garbage-collector',
  namespace: 'namespace-controller',
  job: 'job-controller',
  'ttl-after-finished': 'ttl-after-finished-controller',
  cronjob: 'cronjob-controller',
  daemonset: 'daemon-set-controller',
  statefulset: 'statefulset-controller',
  endpoint: 'endpoint-controller',
  endpointslice: 'endpointslice-controller',
  serviceaccount: 'service-account-controller',
  'root-ca-cert-publisher': 'root-ca-cert-publisher',
  nodeipam: 'node-controller',
  nodelifecycle: 'node-controller',
  // Upstream's taint eviction controller reuses the node controller's role.
  'taint-eviction-controller': 'node-controller',
  podgc: 'pod-garbage-collector',
  resourcequota: 'resourcequota-controller',
  disruption: 'disruption-controller',
  'persistentvolume-binder': 'persistent-volume-binder',
  horizontalpodautoscaling: 'horizontal-pod-autoscaler',
  'pvc-protection': 'pvc-protection-controller',
  'pv-protection': 'pv-protection-controller',
  tokencleaner: 'token-cleaner',
  bootstrapsigner: 'bootstrap-signer',
  'clusterrole-aggregation': 'clusterrole-aggregation-controller',
};

/** Options of ServiceAccountClientBuilder. */
export interface ServiceAccountClientOptions {
  /** The manager's own client: creates the ServiceAccounts and requests their tokens. */
  readonly root: RestClient;
  /** How to reach the API server (server URL, CA, protocol); credentials come from the tokens. */
  readonly connection: Omit<RestClientOptions, 'token' | 'tokenSource' | 'certPem' | 'keyPem'>;
  readonly namespace?: string;
  /** Token lifetime requested (default 3600 s, as upstream); renewed at 80 % of it. */
  readonly expirationSeconds?: number;
  readonly clock?: Clock;
}

interface Entry {
  client: RestClient;
  token: string;
  timer?: ClockTimer;
}

/** Makes and keeps one client per ServiceAccount. */
export class ServiceAccountClientBuilder implements Disposable {
  readonly #o: ServiceAccountClientOptions;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Promise<Entry>>();
  #disposed = false;

  constructor(o: ServiceAccountClientOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
  }

  get #namespace(): string {
    return this.#o.namespace ?? 'kube-system';
  }

  /** The client acting as ServiceAccount `name` (created with its token on first use). */
  async clientFor(name: string): Promise<RestClient> {
    let p = this.#entries.get(name);
    if (!p) {
      p = this.#create(name);
      this.#entries.set(name, p);
      p.catch(() => this.#entries.delete(name));
    }
    return (await p).client;
  }

  async #ensureServiceAccount(name: string): Promise<void> {
    const sas = this.#o.root.resource<ServiceAccount>(resourceDescriptor('v1', 'serviceaccounts'), this.#namespace);
    try {
      await sas.get(name);
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await sas.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: this.#namespace } });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  async #requestToken(name: string): Promise<{ token: string; lifetimeMs: number }> {
    const seconds = this.#o.expirationSeconds ?? 3600;
    const tr = await this.#o.root.resource(resourceDescriptor('v1', 'serviceaccounts'), this.#namespace).createSubresource<{ status?: { token?: string } }>(name, 'token', {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: seconds },
    } as never);
    const token = tr.status?.token;
    if (!token) throw new Error(`TokenRequest for ${this.#namespace}/${name} returned no token`);
    return { token, lifetimeMs: seconds * 1000 };
  }

  async #create(name: string): Promise<Entry> {
    await this.#ensureServiceAccount(name);
    const first = await this.#requestToken(name);
    const entry: Entry = { token: first.token, client: undefined as unknown as RestClient };
    entry.client = new RestClient({ ...this.#o.connection, tokenSource: () => entry.token });
    const schedule = (ms: number): void => {
      if (this.#disposed) return;
      entry.timer = this.#clock.setTimer(() => {
        this.#requestToken(name).then((t) => {
          entry.token = t.token;
          schedule(t.lifetimeMs * 0.8);
        }, (err: unknown) => {
          log.warn('cannot renew a controller token; retrying', { serviceAccount: `${this.#namespace}/${name}`, err: errMessage(err) });
          schedule(10_000);
        });
      }, ms);
    };
    schedule(first.lifetimeMs * 0.8);
    return entry;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    const entries = await Promise.allSettled([...this.#entries.values()]);
    this.#entries.clear();
    for (const e of entries) {
      if (e.status !== 'fulfilled') continue;
      e.value.timer?.dispose();
      await e.value.client.dispose();
    }
  }
}
