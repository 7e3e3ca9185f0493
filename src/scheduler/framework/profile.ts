// A scheduling profile as the framework consumes it: the config v1 plugin sets per extension point,
// MultiPoint expansion into ordered per-point lists (expandMultiPointPlugins) and score weights.

/** A plugin named in a profile (config v1 Plugin); weight only matters for Score and MultiPoint. */
export interface PluginRef {
  name: string;
  weight?: number;
}

/** Enabled and disabled plugins of one extension point (config v1 PluginSet). */
export interface PluginSet {
  enabled?: PluginRef[];
  disabled?: PluginRef[];
}

/** The extension points a profile configures, in the order the framework runs them. */
export const extensionPoints = [
  'preEnqueue', 'queueSort', 'preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind', 'postBind',
] as const;
export type ExtensionPoint = (typeof extensionPoints)[number];

/** The plugins of a profile (config v1 Plugins); multiPoint enables a plugin at every point it implements. */
export type Plugins = { [P in ExtensionPoint | 'multiPoint']?: PluginSet };

/** The method that marks a plugin as implementing each extension point. */
export const pointMethods: Readonly<Record<ExtensionPoint, string>> = {
  preEnqueue: 'preEnqueue', queueSort: 'less', preFilter: 'preFilter', filter: 'filter', postFilter: 'postFilter', preScore: 'preScore',
  score: 'score', reserve: 'reserve', permit: 'permit', preBind: 'preBind', bind: 'bind', postBind: 'postBind',
};

const pointTypeNames: Readonly<Record<ExtensionPoint, string>> = {
  preEnqueue: 'PreEnqueuePlugin', queueSort: 'QueueSortPlugin', preFilter: 'PreFilterPlugin', filter: 'FilterPlugin',
  postFilter: 'PostFilterPlugin', preScore: 'PreScorePlugin', score: 'ScorePlugin', reserve: 'ReservePlugin',
  permit: 'PermitPlugin', preBind: 'PreBindPlugin', bind: 'BindPlugin', postBind: 'PostBindPlugin',
};

/** One scheduling profile, ready to run. */
export interface ProfileSpec {
  readonly schedulerName: string;
  /** Already merged with the defaults (config.ts); multiPoint is expanded here. */
  readonly plugins: Plugins;
  /** Plugin name -> args (defaulted and validated by config.ts). */
  readonly pluginArgs: ReadonlyMap<string, unknown>;
  /** The profile's percentageOfNodesToScore, or null to use the scheduler-wide value. */
  readonly percentageOfNodesToScore: number | null;
}

/**
 * The plugin names per extension point after MultiPoint expansion (expandMultiPointPlugins):
 * plugins configured at a point explicitly and also in multiPoint come first in their explicit
 * order, then multiPoint plugins, then the remaining explicit ones. Plus the score weights.
 */
export function expandPlugins(plugins: Plugins, implementsPoint: (name: string, point: ExtensionPoint) => boolean): { byPoint: Record<ExtensionPoint, string[]>; weights: Map<string, number> } {
  const byPoint = {} as Record<ExtensionPoint, string[]>;
  const multi = plugins.multiPoint?.enabled ?? [];
  for (const point of extensionPoints) {
    const set = plugins[point] ?? {};
    const enabled: string[] = [];
    for (const e of set.enabled ?? []) {
      if (enabled.includes(e.name)) throw new Error(`plugin ${JSON.stringify(e.name)} already registered as ${JSON.stringify(pointTypeNames[point])}`);
      enabled.push(e.name);
    }
    const disabled = new Set((set.disabled ?? []).map((d) => d.name));
    if (disabled.has('*')) {
      byPoint[point] = enabled;
      continue;
    }
    const multiEnabled: string[] = [];
    const overrides = new Set<string>();
    for (const e of multi) {
      if (!implementsPoint(e.name, point)) continue;
      if (disabled.has(e.name)) continue;
      if (enabled.includes(e.name)) {
        overrides.add(e.name);
        continue;
      }
      if (multiEnabled.includes(e.name)) throw new Error(`plugin ${JSON.stringify(e.name)} already registered as ${JSON.stringify(pointTypeNames[point])}`);
      multiEnabled.push(e.name);
    }
    byPoint[point] = [...enabled.filter((n) => overrides.has(n)), ...multiEnabled, ...enabled.filter((n) => !overrides.has(n))];
  }
  const weights = new Map<string, number>();
  for (const e of plugins.score?.enabled ?? []) weights.set(e.name, e.weight || 1);
  for (const e of multi) if (!weights.has(e.name)) weights.set(e.name, e.weight || 1);
  return { byPoint, weights };
}
