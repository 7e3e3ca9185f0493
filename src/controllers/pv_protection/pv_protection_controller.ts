// The PV protection controller (upstream pkg/controller/volume/pvprotection): removes the
// kubernetes.io/pv-protection finalizer from a deleted PersistentVolume once it is no longer Bound
// to a claim, and adds the finalizer to volumes lacking it.
import type { PersistentVolume } from '../../api/types/core_v1.ts';
import { logger } from '../../base/log.ts';
import { isNotFound } from '../../client/api_errors.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { SharedIndexInformer } from '../../client/shared_informer.ts';
import { errMessage, runWorkers } from '../controller_utils.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';

const log = logger('pv-protection-controller');

/** The finalizer StorageObjectInUseProtection admission puts on every volume. */
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

function hasFinalizer(pv: PersistentVolume): boolean {
  return (pv.metadata?.finalizers ?? []).includes(PV_PROTECTION_FINALIZER);
}

/** Being deleted and still protected. */
export function isDeletionCandidate(pv: PersistentVolume): boolean {
  return !!pv.metadata?.deletionTimestamp && hasFinalizer(pv);
}

/** Alive but unprotected (created before admission added the finalizer). */
export function needToAddFinalizer(pv: PersistentVolume): boolean {
  return !pv.metadata?.deletionTimestamp && !hasFinalizer(pv);
}

/** A volume is in use while the binder reports it Bound to a claim. */
export function isVolumeInUse(pv: PersistentVolume): boolean {
  return pv.status?.phase === 'Bound';
}

/** Removes the protection finalizer from deleted volumes no claim is bound to. */
export class PvProtectionController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly pvs: SharedIndexInformer<PersistentVolume>;
  #pvClient: ResourceClient<PersistentVolume>;
  #registration: { dispose(): void };
  #workers: Promise<void> | undefined;

  constructor(ctx: ControllerContext) {
    this.queue = new RateLimitingQueue<string>({ name: 'pvprotection', clock: ctx.clock });
    this.#pvClient = ctx.client.resource<PersistentVolume>(resourceDescriptor('v1', 'persistentvolumes'));
    this.pvs = ctx.informers.informerFor<PersistentVolume>(resourceDescriptor('v1', 'persistentvolumes'));
    const changed = (pv: PersistentVolume): void => {
      if (needToAddFinalizer(pv) || isDeletionCandidate(pv)) this.queue.add(pv.metadata?.name ?? '');
    };
    this.#registration = this.pvs.addEventHandler({ onAdd: changed, onUpdate: (_o, n) => changed(n) });
  }

  run(workers: number): void {
    this.#workers = runWorkers(this.queue, workers, (k) => this.sync(k), (key, err) => log.warn('PV failed', { pv: key, err: errMessage(err) }));
  }

  async dispose(): Promise<void> {
    this.#registration.dispose();
    this.queue.shutDown();
    await this.#workers;
  }

  /** Decides about one volume: drop the finalizer when deleted and unbound, add it when missing. */
  async sync(name: string): Promise<void> {
    const pv = this.pvs.lister.get('', name);
    if (!pv) return;
    if (isDeletionCandidate(pv)) {
      if (!isVolumeInUse(pv)) {
        await this.#setFinalizers(pv, (pv.metadata?.finalizers ?? []).filter((f) => f !== PV_PROTECTION_FINALIZER));
        log.info('Removed protection finalizer from PV', { pv: name });
        return;
      }
      log.info('Keeping PV because it is being used', { pv: name });
    }
    if (needToAddFinalizer(pv)) {
      await this.#setFinalizers(pv, [...(pv.metadata?.finalizers ?? []), PV_PROTECTION_FINALIZER]);
      log.info('Added protection finalizer to PV', { pv: name });
    }
  }

  async #setFinalizers(pv: PersistentVolume, finalizers: string[]): Promise<void> {
    const updated = structuredClone(pv);
    updated.metadata = { ...updated.metadata, finalizers };
    try {
      await this.#pvClient.update(updated);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }
}

registerController('pv-protection', (ctx) => new PvProtectionController(ctx), 1);
