// The custom resources one API server serves (apiextensions' crdHandler): it follows the CRD watch
// cache, finds the served version a request names, builds each CRD's registries (one watch cache
// under /registry/<group>/<plural>/ shared by its versions) and adds what is Established to discovery.
import type { CustomResourceDefinition, CustomResourceSubresourceScale } from '../../api/types/apiextensions_v1.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { DiscoverySource } from '../../api/discovery.ts';
import type { ServedGroup } from '../../api/resource_table.ts';
import { compileCrdSchema, type CrdSchema } from '../../api/crd/schema.ts';
import { crdApplyAtom } from '../../api/crd/apply_schema.ts';
import { crdFieldSelectors } from '../../api/crd/selectable_fields.ts';
import { setFieldSelectorSupport } from '../selection.ts';
import { registerDefinitionAtom } from '../../api/apply/schema.ts';
import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import type { Store } from '../../storage/types.ts';
import type { HandlerServices } from '../handlers/context.ts';
import { decodeStored, storagePrefix, type GenericStore, type GenericStoreHooks } from '../registry/generic_store.ts';
import { WatchCache } from '../watch_cache.ts';
import { CustomResourceStore } from './custom_resource_store.ts';
import { customResourceServices } from './custom_resource_services.ts';
import {
  columnsOf, crdResourceInfo, deprecationWarning, isConditionTrue, servedVersions, sortVersions, storageVersionOf, subresourcesOf, versionOf,
} from './crd_resources.ts';

const log = logger('crd-registry');

/** One served version of a custom resource, as a request finds it. */
export interface ServedCustomResource {
  readonly crd: CustomResourceDefinition;
  readonly info: ResourceInfo;
  readonly store: CustomResourceStore;
  readonly services: HandlerServices;
  /** The CRD is being deleted (Terminating condition true): no creates. */
  readonly terminating: boolean;
  /** Sent as a Warning header on every request to a deprecated version. */
  readonly warning: string | undefined;
  readonly scale: CustomResourceSubresourceScale | undefined;
}

/** The registries of one CRD as its spec and accepted names were when built. */
interface Serving {
  readonly key: string;
  readonly versions: ReadonlyMap<string, Omit<ServedCustomResource, 'crd' | 'terminating'>>;
  /** Withdraws the versions' apply schemas (the registry replaced or dropped this serving). */
  readonly dispose: () => void;
}

/** What the registry needs from the server. */
export interface CrdRegistryDeps {
  /** The CustomResourceDefinition registry (its watch cache feeds this one). */
  readonly crdStore: GenericStore;
  readonly store: Store;
  readonly hooks: GenericStoreHooks;
  readonly services: HandlerServices;
  readonly watchCacheHistory?: number;
}

/** Listens to CRD changes (by CRD name). */
export type CrdListener = (name: string) => void;

function servingKey(crd: CustomResourceDefinition): string {
  return JSON.stringify([crd.metadata?.uid, crd.spec, crd.status?.acceptedNames]);
}

/** The custom resources of one server. */
export class CrdRegistry implements Disposable {
  #deps: CrdRegistryDeps;
  #crds = new Map<string, CustomResourceDefinition>();
  #serving = new Map<string, Serving>();
  #caches = new Map<string, WatchCache>();
  #listeners = new Set<CrdListener>();
  #watch: Disposable | undefined;
  #disposed = false;
  /** Bumped on every CRD change: cached discovery and OpenAPI documents are rebuilt after it moves. */
  #generation = 0;
  #discovery: { base: DiscoverySource; generation: number; source: DiscoverySource } | undefined;

  constructor(deps: CrdRegistryDeps) {
    this.#deps = deps;
  }

  /** A number that changes whenever a CRD does. */
  get generation(): number {
    return this.#generation;
  }

  /** Follows the CRD watch cache (started by the server before). */
  async start(): Promise<void> {
    await this.#deps.crdStore.cache.start();
    this.#subscribe();
  }

  #subscribe(): void {
    if (this.#disposed) return;
    const seen = new Set<string>();
    let initial = true;
    this.#watch = this.#deps.crdStore.cache.watch({}, {
      onEvent: (e) => {
        const crd = e.object.obj as unknown as CustomResourceDefinition;
        const name = crd.metadata?.name ?? '';
        if (initial) seen.add(name);
        if (e.type === 'DELETED') this.#remove(name);
        else this.#put(name, crd);
      },
      onClose: (err) => {
        if (this.#disposed) return;
        log.warn('CRD watch closed; resubscribing', { err: err?.message });
        setImmediate(() => this.#subscribe());
      },
    });
    initial = false;
    // After a resubscription, CRDs the fresh listing lacks were deleted meanwhile.
    for (const name of [...this.#crds.keys()]) if (!seen.has(name)) this.#remove(name);
  }

  #put(name: string, crd: CustomResourceDefinition): void {
    this.#crds.set(name, crd);
    const serving = this.#serving.get(name);
    if (serving && serving.key !== servingKey(crd)) this.#dropServing(name);
    this.#changed(name);
  }

  #remove(name: string): void {
    const crd = this.#crds.get(name);
    this.#crds.delete(name);
    this.#dropServing(name);
    if (crd) {
      const prefix = storagePrefix({ group: crd.spec.group, resource: crd.spec.names.plural });
      this.#caches.get(prefix)?.dispose();
      this.#caches.delete(prefix);
    }
    this.#changed(name);
  }

  #dropServing(name: string): void {
    this.#serving.get(name)?.dispose();
    this.#serving.delete(name);
  }

  #changed(name: string): void {
    this.#generation++;
    for (const l of this.#listeners) {
      try {
        l(name);
      } catch (err) {
        log.error('CRD listener failed', { err: String(err) });
      }
    }
  }

  /** Calls `l` with a CRD's name on every change of it; returns the unsubscription. */
  onChange(l: CrdListener): Disposable {
    this.#listeners.add(l);
    return { dispose: () => { this.#listeners.delete(l); } };
  }

  /** The CRD of a name as the cache has it. */
  get(name: string): CustomResourceDefinition | undefined {
    return this.#crds.get(name);
  }

  /** Every CRD the cache has. */
  list(): CustomResourceDefinition[] {
    return [...this.#crds.values()];
  }

  /**
   * The served version a resource request names, or undefined (a 404): unknown resource, scope
   * not matching the request's namespace (list and watch may span namespaces), version not
   * served, or names neither accepted nor established yet.
   */
  lookup(group: string, version: string, resource: string, namespace: string, verb: string): ServedCustomResource | undefined {
    const name = `${resource}.${group}`;
    const crd = this.#crds.get(name);
    if (!crd) return undefined;
    const namespaced = crd.spec.scope === 'Namespaced';
    if (!namespaced && namespace !== '') return undefined;
    if (namespaced && namespace === '' && verb !== 'list' && verb !== 'watch') return undefined;
    if (!versionOf(crd, version)?.served) return undefined;
    if (!isConditionTrue(crd, 'NamesAccepted') && !isConditionTrue(crd, 'Established')) return undefined;
    const served = this.#servingOf(name, crd)?.versions.get(version);
    if (!served) return undefined;
    return { ...served, crd, terminating: isConditionTrue(crd, 'Terminating') };
  }

  /** The registry of a CRD's storage version (the finalizer deletes instances through it), or undefined. */
  storageStore(crd: CustomResourceDefinition): CustomResourceStore | undefined {
    const name = crd.metadata?.name ?? '';
    const current = this.#crds.get(name);
    if (!current) return undefined;
    const sv = storageVersionOf(current);
    return sv ? this.#servingOf(name, current)?.versions.get(sv)?.store : undefined;
  }

  #servingOf(name: string, crd: CustomResourceDefinition): Serving | undefined {
    const key = servingKey(crd);
    const existing = this.#serving.get(name);
    if (existing?.key === key) return existing;
    try {
      const built = this.#build(crd, key);
      this.#dropServing(name);
      this.#serving.set(name, built);
      return built;
    } catch (err) {
      // A CRD that passed validation always builds; one that did not (older data) serves nothing.
      log.error('cannot serve CRD', { name, err: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  }

  #build(crd: CustomResourceDefinition, key: string): Serving {
    const group = crd.spec.group;
    const storageVersion = storageVersionOf(crd);
    if (!storageVersion) throw new Error('no storage version');
    const prefix = storagePrefix({ group, resource: (crd.status?.acceptedNames ?? crd.spec.names).plural });
    let cache = this.#caches.get(prefix);
    if (!cache) {
      cache = new WatchCache(this.#deps.store, prefix, decodeStored, this.#deps.watchCacheHistory);
      this.#caches.set(prefix, cache);
      cache.start().catch((err: unknown) => log.warn('custom resource watch cache failed to start', { prefix, err: String(err) }));
    }
    const multiVersion = crd.spec.versions.length > 1;
    const versions = new Map<string, Omit<ServedCustomResource, 'crd' | 'terminating'>>();
    const registrations: { dispose(): void }[] = [];
    for (const v of crd.spec.versions) {
      if (!v.served && v.name !== storageVersion) continue;
      const base = crdResourceInfo(crd, v.name);
      // Writes name their kind's schema by definition: this version's apply schema, built once.
      const applySchema = registerDefinitionAtom(base.definition, crdApplyAtom(crd, v.name));
      registrations.push(applySchema);
      const info: ResourceInfo = { ...base, definition: applySchema.definition };
      setFieldSelectorSupport(info, crdFieldSelectors(crd, v.name));
      const schema: CrdSchema | undefined = v.schema?.openAPIV3Schema !== undefined ? compileCrdSchema(v.schema.openAPIV3Schema) : undefined;
      const subs = subresourcesOf(crd, v.name);
      const store = new CustomResourceStore({
        info, storageApiVersion: `${group}/${storageVersion}`, multiVersion, schema,
        statusEnabled: subs?.status !== undefined, scale: subs?.scale,
      }, this.#deps.store, cache, this.#deps.hooks);
      const services = customResourceServices(this.#deps.services, { info, schema, columns: columnsOf(crd, v.name) });
      versions.set(v.name, { info, store, services, warning: deprecationWarning(crd, v.name), scale: subs?.scale });
    }
    return { key, versions, dispose: () => { for (const r of registrations) r.dispose(); } };
  }

  /**
   * `base` plus the served versions of every Established CRD. CRD groups follow the built-in
   * ones in name order (their APIServices all have upstream's priority 1000); versions in
   * upstream's version order.
   */
  discovery(base: DiscoverySource): DiscoverySource {
    const cached = this.#discovery;
    if (cached && cached.base === base && cached.generation === this.#generation) return cached.source;
    const builtinGroups = new Set(base.groups.map((g) => g.name));
    const versionsByGroup = new Map<string, Set<string>>();
    const resources: ResourceInfo[] = [];
    for (const crd of this.#crds.values()) {
      if (!isConditionTrue(crd, 'Established') || builtinGroups.has(crd.spec.group)) continue;
      const vs = servedVersions(crd);
      if (vs.length === 0) continue;
      let set = versionsByGroup.get(crd.spec.group);
      if (!set) versionsByGroup.set(crd.spec.group, set = new Set());
      for (const v of vs) {
        set.add(v);
        resources.push(crdResourceInfo(crd, v));
      }
    }
    const groups: ServedGroup[] = [...versionsByGroup].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, vs]) => ({ name, versions: sortVersions(vs) }));
    const source: DiscoverySource = groups.length === 0 ? base : { groups: [...base.groups, ...groups], resources: [...base.resources, ...resources] };
    this.#discovery = { base, generation: this.#generation, source };
    return source;
  }

  /** The Established CRDs serving group/version (OpenAPI documents are built from them). */
  servingCrds(group: string, version: string): CustomResourceDefinition[] {
    return [...this.#crds.values()]
      .filter((c) => c.spec.group === group && isConditionTrue(c, 'Established') && versionOf(c, version)?.served)
      .sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  }

  dispose(): void {
    this.#disposed = true;
    this.#watch?.dispose();
    for (const c of this.#caches.values()) c.dispose();
    this.#caches.clear();
    for (const s of this.#serving.values()) s.dispose();
    this.#serving.clear();
    this.#listeners.clear();
  }
}
