// The node side of the built-in `local-path` StorageClass: for claims of that class the scheduler
// placed on this node (volume.kubernetes.io/selected-node), makes a directory under the agent's data
// dir and a hostPath PV pinned to this node and pre-bound to the claim; deletes both once released.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, PersistentVolume, PersistentVolumeClaim } from '../../api/types/core_v1.ts';
import type { StorageClass } from '../../api/types/storage_v1.ts';
import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import { isAlreadyExists, isNotFound } from '../../client/api_errors.ts';
import { realClock, type Clock } from '../../client/clock.ts';
import { EventBroadcaster, EventType, type EventRecorder } from '../../client/events.ts';
import { SharedInformerFactory } from '../../client/informer_factory.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import type { RestClient } from '../../client/rest_client.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import { metaNamespaceKey, splitKey } from '../../client/store.ts';

const log = logger('local-path-provisioner');

/** The provisioner name of the built-in class. */
export const LOCAL_PATH_PROVISIONER = 'tkube.io/local-path';
/** The built-in class. */
export const LOCAL_PATH_STORAGE_CLASS = 'local-path';

const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** Options of LocalPathProvisioner. */
export interface LocalPathProvisionerOptions {
  /** The API as this node. */
  readonly client: RestClient;
  readonly nodeName: string;
  /** Where the volumes' directories go (DATA/agent/storage). */
  readonly storageDir: string;
  readonly clock?: Clock;
  /** How long start() waits for the first lists (default 60 s). */
  readonly syncTimeoutMs?: number;
}

function claimClass(pvc: PersistentVolumeClaim): string {
  return pvc.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS] ?? pvc.spec?.storageClassName ?? '';
}

/** The PV's name for a claim (upstream's "pvc-" + claim UID). */
export function volumeNameFor(pvc: PersistentVolumeClaim): string {
  return `pvc-${pvc.metadata?.uid ?? ''}`;
}

/** The PersistentVolume the provisioner creates for a claim. */
export function provisionedVolume(pvc: PersistentVolumeClaim, cls: StorageClass, path: string, hostnameLabel: string): PersistentVolume {
  const md = pvc.metadata ?? {};
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name: volumeNameFor(pvc), annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER } },
    spec: {
      capacity: { storage: String(pvc.spec?.resources?.requests?.['storage'] ?? '0') },
      accessModes: pvc.spec?.accessModes?.length ? [...pvc.spec.accessModes] : ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
      storageClassName: cls.metadata?.name ?? '',
      volumeMode: 'Filesystem',
      ...(cls.mountOptions?.length ? { mountOptions: [...cls.mountOptions] } : {}),
      hostPath: { path, type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [hostnameLabel] }] }] } },
      claimRef: {
        apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: md.namespace ?? '', name: md.name ?? '',
        uid: md.uid ?? '', ...(md.resourceVersion ? { resourceVersion: md.resourceVersion } : {}),
      },
    },
  };
}

/** Provisions and deletes local-path volumes of this node. */
export class LocalPathProvisioner implements Disposable {
  readonly #o: LocalPathProvisionerOptions;
  readonly #factory: SharedInformerFactory;
  readonly #claims: SharedIndexInformer<PersistentVolumeClaim>;
  readonly #volumes: SharedIndexInformer<PersistentVolume>;
  readonly #classes: SharedIndexInformer<StorageClass>;
  readonly #pvClient: ResourceClient<PersistentVolume>;
  readonly #nodeClient: ResourceClient<Node>;
  readonly #broadcaster: EventBroadcaster;
  readonly #recorder: EventRecorder;
  /** Keys "claim/<ns>/<name>" and "volume/<name>". */
  readonly queue: RateLimitingQueue<string>;
  #workers: Promise<void> | undefined;

  constructor(o: LocalPathProvisionerOptions) {
    if (!o.storageDir.startsWith('/')) throw new Error(`LocalPathProvisionerOptions.storageDir: want an absolute path, got ${JSON.stringify(o.storageDir)}`);
    this.#o = o;
    const clock = o.clock ?? realClock;
    this.#factory = new SharedInformerFactory(o.client, { clock });
    this.#claims = this.#factory.informerFor<PersistentVolumeClaim>(resourceDescriptor('v1', 'persistentvolumeclaims'));
    this.#volumes = this.#factory.informerFor<PersistentVolume>(resourceDescriptor('v1', 'persistentvolumes'));
    this.#classes = this.#factory.informerFor<StorageClass>(resourceDescriptor('storage.k8s.io/v1', 'storageclasses'));
    this.#pvClient = o.client.resource<PersistentVolume>(resourceDescriptor('v1', 'persistentvolumes'));
    this.#nodeClient = o.client.resource<Node>(resourceDescriptor('v1', 'nodes'));
    this.#broadcaster = new EventBroadcaster({ client: o.client, clock });
    this.#recorder = this.#broadcaster.newRecorder({ component: `${LOCAL_PATH_PROVISIONER}_${o.nodeName}` });
    this.queue = new RateLimitingQueue<string>({ name: 'local-path-provisioner', clock });
    this.#claims.addEventHandler({
      onAdd: (c) => this.queue.add(`claim/${metaNamespaceKey(c)}`),
      onUpdate: (_o, c) => this.queue.add(`claim/${metaNamespaceKey(c)}`),
    });
    this.#volumes.addEventHandler({
      onAdd: (v) => this.queue.add(`volume/${v.metadata?.name ?? ''}`),
      onUpdate: (_o, v) => this.queue.add(`volume/${v.metadata?.name ?? ''}`),
    });
  }

  /** Starts watching; resolves once the caches are filled. */
  async start(): Promise<void> {
    mkdirSync(this.#o.storageDir, { recursive: true, mode: 0o711 });
    this.#factory.start();
    if (!(await this.#factory.waitForCacheSync(this.#o.syncTimeoutMs ?? 60_000))) log.warn('claims and volumes did not sync in time');
    this.#workers = this.#worker();
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        if (key.startsWith('claim/')) await this.syncClaim(key.slice(6));
        else await this.syncVolume(key.slice(7));
        this.queue.forget(key);
      } catch (err) {
        log.warn('sync failed, will retry', { key, err: err instanceof Error ? err.message : String(err) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** The directory of a claim's volume. */
  pathFor(pvc: PersistentVolumeClaim): string {
    return join(this.#o.storageDir, `${volumeNameFor(pvc)}_${pvc.metadata?.namespace ?? ''}_${pvc.metadata?.name ?? ''}`);
  }

  /** Provisions a volume for the claim when it is ours to provision (shouldProvision + provisionClaimOperation). */
  async syncClaim(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pvc = this.#claims.lister.get(namespace, name);
    if (!pvc || pvc.metadata?.deletionTimestamp || (pvc.spec?.volumeName ?? '') !== '') return;
    const ann = pvc.metadata?.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== LOCAL_PATH_PROVISIONER && ann[ANN_BETA_STORAGE_PROVISIONER] !== LOCAL_PATH_PROVISIONER) return;
    const cls = this.#classes.lister.get('', claimClass(pvc));
    if (!cls || cls.provisioner !== LOCAL_PATH_PROVISIONER) return;
    // a directory on a node needs the node chosen first: the scheduler's selected-node says which
    if (ann[ANN_SELECTED_NODE] !== this.#o.nodeName) return;
    const pvName = volumeNameFor(pvc);
    if (this.#volumes.lister.get('', pvName)) return;
    if (pvc.spec?.volumeMode === 'Block') {
      this.#recorder.event(pvc, EventType.Warning, 'ProvisioningFailed', `failed to provision volume with StorageClass ${JSON.stringify(cls.metadata?.name ?? '')}: ${LOCAL_PATH_PROVISIONER} does not support block volume provisioning`);
      return;
    }
    this.#recorder.event(pvc, EventType.Normal, 'Provisioning', `External provisioner is provisioning volume for claim ${JSON.stringify(`${namespace}/${name}`)}`);
    const path = this.pathFor(pvc);
    try {
      let hostname = this.#o.nodeName;
      try {
        hostname = (await this.#nodeClient.get(this.#o.nodeName)).metadata?.labels?.[HOSTNAME_LABEL] ?? hostname;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      mkdirSync(path, { recursive: true, mode: 0o777 });
      // any pod user may write its volume, whatever the umask
      chmodSync(path, 0o777);
      await this.#pvClient.create(provisionedVolume(pvc, cls, path, hostname));
    } catch (err) {
      if (isAlreadyExists(err)) return;
      this.#recorder.event(pvc, EventType.Warning, 'ProvisioningFailed', `failed to provision volume with StorageClass ${JSON.stringify(cls.metadata?.name ?? '')}: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    log.info('provisioned a local-path volume', { claim: key, volume: pvName, path });
    this.#recorder.event(pvc, EventType.Normal, 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
  }

  /** Deletes a released volume of ours with reclaim policy Delete, and its directory. */
  async syncVolume(name: string): Promise<void> {
    const pv = this.#volumes.lister.get('', name);
    if (!pv || pv.metadata?.deletionTimestamp) return;
    if (pv.metadata?.annotations?.[ANN_PROVISIONED_BY] !== LOCAL_PATH_PROVISIONER) return;
    if (pv.status?.phase !== 'Released' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    const path = pv.spec.hostPath?.path ?? '';
    // only directories this node made: another node's volume, or a hand-edited path, is not ours
    if (!path.startsWith(`${this.#o.storageDir}/`) || path.slice(this.#o.storageDir.length + 1).includes('/')) return;
    try {
      rmSync(path, { recursive: true, force: true });
      await this.#pvClient.delete(name);
    } catch (err) {
      if (isNotFound(err)) return;
      this.#recorder.event(pv, EventType.Warning, 'VolumeFailedDelete', err instanceof Error ? err.message : String(err));
      throw err;
    }
    log.info('deleted a released local-path volume', { volume: name, path });
  }

  async dispose(): Promise<void> {
    this.queue.shutDown();
    await this.#workers;
    await this.#factory.dispose();
    await this.#broadcaster.dispose();
  }
}
