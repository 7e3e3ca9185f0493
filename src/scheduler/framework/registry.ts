// A registry maps plugin names to factories (runtime.Registry); profiles name plugins and the
// framework builds each one once. The in-tree registry lives in plugins/registry.ts; out-of-tree
// plugins merge their own in.

import type { PluginFactory } from './interface.ts';

/** Plugin name -> factory. */
export type Registry = ReadonlyMap<string, PluginFactory>;

/** Registry.Merge: a new registry with `extra` added; a name present in both is an error. */
export function mergeRegistries(base: Registry, extra: Registry): Registry {
  const out = new Map(base);
  for (const [name, factory] of extra) {
    if (out.has(name)) throw new Error(`a plugin named ${name} already exists`);
    out.set(name, factory);
  }
  return out;
}
