// An in-memory AdmissionLister for the plugins' unit tests: objects are put in by group/resource,
// read back as the server's watch caches would answer.
import type { KObject } from '../registry/strategy.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import { preferredResource } from '../../api/resource_table.ts';
import type { AdmissionAttributes, Operation } from './types.ts';
import type { LiveLister } from './plugin_util.ts';

/** A lister over objects kept in memory. */
export class FakeLister implements LiveLister {
  readonly #items = new Map<string, KObject>();

  /** Adds (or replaces) an object of group/resource. */
  add(group: string, resource: string, obj: KObject): this {
    const m = (obj['metadata'] ?? {}) as Record<string, unknown>;
    this.#items.set(`${group}/${resource}/${String(m['namespace'] ?? '')}/${String(m['name'] ?? '')}`, obj);
    return this;
  }

  /** Removes an object. */
  remove(group: string, resource: string, namespace: string, name: string): void {
    this.#items.delete(`${group}/${resource}/${namespace}/${name}`);
  }

  list(group: string, resource: string, namespace?: string): KObject[] {
    const prefix = namespace ? `${group}/${resource}/${namespace}/` : `${group}/${resource}/`;
    return [...this.#items.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
  }

  get(group: string, resource: string, namespace: string, name: string): KObject | undefined {
    return this.#items.get(`${group}/${resource}/${namespace}/${name}`);
  }
}

/** Attributes of a request in tests. */
export function attrs(operation: Operation, group: string, resource: string, object: KObject | undefined,
  opts: { oldObject?: KObject; subresource?: string; namespace?: string; name?: string; dryRun?: boolean } = {}): AdmissionAttributes {
  const info = preferredResource(group, resource) as ResourceInfo;
  if (!info) throw new Error(`unknown resource ${group}/${resource}`);
  const m = ((object ?? opts.oldObject)?.['metadata'] ?? {}) as Record<string, unknown>;
  return {
    operation, info, subresource: opts.subresource ?? '',
    namespace: opts.namespace ?? String(m['namespace'] ?? ''),
    name: opts.name ?? String(m['name'] ?? ''),
    object, oldObject: opts.oldObject, user: { name: 'admin', groups: ['system:masters'] },
    dryRun: opts.dryRun === true, warnings: [],
  };
}
