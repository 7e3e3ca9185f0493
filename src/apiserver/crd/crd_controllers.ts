// The apiextensions controllers that run inside the API server: naming (acceptedNames and the
// NamesAccepted condition), establishing (Established once the names are served) and the CRD
// finalizer (deletes every custom resource of a deleted CRD, then drops its finalizer). One worker
// serves all three from one queue of CRD names, as upstream's naming controller runs one worker.
import type { CustomResourceDefinition } from '../../api/types/apiextensions_v1.ts';
import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import { ApiError } from '../errors.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import { rfc3339 } from '../registry/object_meta.ts';
import type { KObject } from '../registry/strategy.ts';
import type { CrdRegistry } from './crd_registry.ts';
import { CRD_CLEANUP_FINALIZER, conditionEquivalent, findCondition, isConditionTrue, setCondition } from './crd_resources.ts';
import { calculateNamesAndConditions, namesEqual } from './naming.ts';

const log = logger('crd-controllers');

/** How long to wait before looking again at a CRD whose custom resources are still going. */
const INSTANCES_REMAINING_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/** Outcome of one pass over a CRD: done, or look again after some milliseconds. */
type Outcome = { readonly retryAfterMs?: number };

/** The controllers of one server. */
export class CrdControllers implements Disposable {
  #registry: CrdRegistry;
  #crdStore: GenericStore;
  #queue = new Set<string>();
  #failures = new Map<string, number>();
  #timers = new Set<NodeJS.Timeout>();
  #running = false;
  #disposed = false;
  #subscription: Disposable | undefined;
  #idle: Promise<void> = Promise.resolve();

  constructor(registry: CrdRegistry, crdStore: GenericStore) {
    this.#registry = registry;
    this.#crdStore = crdStore;
  }

  /** Starts following CRD changes (the registry must be started). */
  start(): void {
    this.#subscription = this.#registry.onChange((name) => this.#enqueue(name));
    for (const crd of this.#registry.list()) this.#enqueue(crd.metadata?.name ?? '');
  }

  #enqueue(name: string): void {
    if (this.#disposed || name === '') return;
    this.#queue.add(name);
    if (!this.#running) {
      this.#running = true;
      this.#idle = this.#drain();
    }
  }

  #enqueueAfter(name: string, ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#enqueue(name);
    }, ms);
    this.#timers.add(t);
  }

  async #drain(): Promise<void> {
    while (this.#queue.size > 0 && !this.#disposed) {
      const name = this.#queue.values().next().value as string;
      this.#queue.delete(name);
      try {
        const out = await this.sync(name);
        this.#failures.delete(name);
        if (out.retryAfterMs !== undefined) this.#enqueueAfter(name, out.retryAfterMs);
      } catch (err) {
        const n = (this.#failures.get(name) ?? 0) + 1;
        this.#failures.set(name, n);
        log.warn('CRD sync failed', { name, err: err instanceof Error ? err.message : String(err) });
        this.#enqueueAfter(name, Math.min(MAX_RETRY_MS, 50 * 2 ** n));
      }
    }
    this.#running = false;
  }

  /** One pass of the three controllers over a CRD. */
  async sync(name: string): Promise<Outcome> {
    const crd = this.#registry.get(name);
    if (!crd) {
      // Deleted: its names are free, others of the group may take them now.
      this.#requeueGroup(name);
      return {};
    }
    if (await this.#syncNames(crd)) return {};
    if (await this.#establish(crd)) return {};
    return this.#finalize(crd);
  }

  #requeueGroup(name: string): void {
    const group = name.slice(name.indexOf('.') + 1);
    for (const other of this.#registry.list()) {
      const n = other.metadata?.name ?? '';
      if (other.spec.group === group && n !== name) this.#queue.add(n);
    }
  }

  /** Writes a CRD's status (a conditional update: a conflict means a newer CRD is on its way here). */
  async #writeStatus(crd: CustomResourceDefinition, change: (c: CustomResourceDefinition) => void): Promise<boolean> {
    const name = crd.metadata?.name ?? '';
    try {
      const { obj } = await this.#crdStore.update('', name, () => {
        const next = structuredClone(crd) as CustomResourceDefinition;
        change(next);
        return next as unknown as KObject;
      }, { subresource: 'status' });
      await this.#caughtUp(obj);
      return true;
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return false;
      throw err;
    }
  }

  /** Waits until the registry's cache holds a write, so the next decision reads it. */
  async #caughtUp(obj: KObject): Promise<void> {
    const rv = Number(((obj['metadata'] ?? {}) as KObject)['resourceVersion']);
    if (Number.isFinite(rv)) await this.#crdStore.cache.waitForRevision(rv).catch(() => undefined);
  }

  /** The naming controller; true when it wrote. */
  async #syncNames(crd: CustomResourceDefinition): Promise<boolean> {
    if (namesEqual(crd.spec.names, crd.status?.acceptedNames)) return false;
    const result = calculateNamesAndConditions(crd, this.#registry.list());
    if (namesEqual(crd.status?.acceptedNames, result.acceptedNames) && conditionEquivalent({ ...result.namesAccepted }, findCondition(crd, 'NamesAccepted'))) {
      return false;
    }
    const now = rfc3339(new Date());
    const wrote = await this.#writeStatus(crd, (c) => {
      (c.status ??= {}).acceptedNames = result.acceptedNames;
      setCondition(c, result.namesAccepted, now);
      setCondition(c, result.established, now);
    });
    if (wrote) this.#requeueGroup(crd.metadata?.name ?? '');
    return true;
  }

  /** The establishing controller; true when it wrote. */
  async #establish(crd: CustomResourceDefinition): Promise<boolean> {
    if (!isConditionTrue(crd, 'NamesAccepted') || isConditionTrue(crd, 'Established')) return false;
    if (crd.metadata?.deletionTimestamp) return false;
    await this.#writeStatus(crd, (c) => setCondition(c, {
      type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted',
    }, rfc3339(new Date())));
    return true;
  }

  /** The CRD finalizer: deletes the custom resources of a deleted CRD, then lets it go. */
  async #finalize(crd: CustomResourceDefinition): Promise<Outcome> {
    if (!crd.metadata?.deletionTimestamp || !(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return {};
    const inProgress = { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' };
    let current = crd;
    if (!conditionEquivalent(findCondition(crd, 'Terminating'), inProgress)) {
      if (!(await this.#writeStatus(crd, (c) => setCondition(c, inProgress, rfc3339(new Date()))))) return {};
      current = this.#registry.get(crd.metadata.name ?? '') ?? crd;
    }
    let done: { type: string; status: string; reason: string; message: string };
    if (isConditionTrue(current, 'Established')) {
      const remaining = await this.#deleteInstances(current);
      if (remaining > 0) return { retryAfterMs: INSTANCES_REMAINING_RETRY_MS };
      done = { type: 'Terminating', status: 'False', reason: 'InstanceDeletionCompleted', message: 'removed all instances' };
    } else {
      done = { type: 'Terminating', status: 'False', reason: 'NeverEstablished', message: 'resource was never established' };
    }
    // Upstream drops the finalizer through /status; here status writes keep metadata, so the main
    // resource is written with the status set after the strategy kept the stored one.
    const name = current.metadata?.name ?? '';
    const now = rfc3339(new Date());
    try {
      await this.#crdStore.update('', name, (cur) => {
        if (!cur) throw new ApiError(404, 'NotFound', 'gone');
        const m = (cur['metadata'] ?? {}) as KObject;
        m['finalizers'] = ((m['finalizers'] ?? []) as string[]).filter((f) => f !== CRD_CLEANUP_FINALIZER);
        if ((m['finalizers'] as string[]).length === 0) delete m['finalizers'];
        return cur;
      }, {
        mutate: (obj) => {
          const c = obj as unknown as CustomResourceDefinition;
          setCondition(c, done, now);
        },
      });
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return {};
      throw err;
    }
    return {};
  }

  /** Deletes every instance; returns how many are left (held by finalizers). */
  async #deleteInstances(crd: CustomResourceDefinition): Promise<number> {
    const store = this.#registry.storageStore(crd);
    if (!store) return 0;
    await store.cache.sync();
    for (const c of store.cache.list()) {
      const m = (c.obj['metadata'] ?? {}) as KObject;
      if (m['deletionTimestamp']) continue;
      try {
        await store.delete(String(m['namespace'] ?? ''), String(m['name'] ?? ''), {});
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    await store.cache.sync();
    return store.cache.list().length;
  }

  /** Stops the worker (it finishes the CRD at hand). */
  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#subscription?.dispose();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#queue.clear();
    await this.#idle;
  }
}
