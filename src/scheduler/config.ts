// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) as `--scheduler-config` supplies it:
// parsing YAML or JSON, upstream's defaults (the default plugin set with its MultiPoint weights,
// plugin args defaults, backoff and percentageOfNodesToScore), merging a profile's plugins into the
// defaults, and validation whose errors name the field, as kube-scheduler prints them.

import { parse } from 'yaml';
import {
  FieldErrorsError,
  duplicate,
  forbidden,
  invalid,
  newPath,
  notSupported,
  required,
  type ErrorList,
  type Path,
} from '../api/field_errors.ts';
import type { TopologySpreadConstraint } from '../api/types/core_v1.ts';
import { extensionPoints, type PluginRef, type PluginSet, type Plugins, type ProfileSpec } from './framework/profile.ts';

/** The API group/version of the file format. */
export const SchedulerConfigAPIVersion = 'kubescheduler.config.k8s.io/v1';
/** The default profile's scheduler name. */
export const DefaultSchedulerName = 'default-scheduler';

/** Leader election settings (componentbaseconfig.LeaderElectionConfiguration). */
export interface LeaderElectionConfig {
  leaderElect: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  resourceLock: string;
  resourceName: string;
  resourceNamespace: string;
}

/** A parsed, defaulted and validated KubeSchedulerConfiguration. */
export interface SchedulerConfig {
  parallelism: number;
  /** 0 means adaptive (50% minus 1% per 125 nodes, at least 5%). */
  percentageOfNodesToScore: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
  leaderElection: LeaderElectionConfig;
  profiles: ProfileSpec[];
}

/** The default plugins with their MultiPoint weights (getDefaultPlugins), minus ones tkube lacks. */
export function defaultPlugins(): Plugins {
  return {
    multiPoint: {
      enabled: [
        { name: 'SchedulingGates' },
        { name: 'PrioritySort' },
        { name: 'NodeUnschedulable' },
        { name: 'NodeName' },
        { name: 'TaintToleration', weight: 3 },
        { name: 'NodeAffinity', weight: 2 },
        { name: 'NodePorts' },
        { name: 'NodeResourcesFit', weight: 1 },
        { name: 'VolumeBinding' },
        { name: 'PodTopologySpread', weight: 2 },
        { name: 'InterPodAffinity', weight: 2 },
        { name: 'DefaultPreemption' },
        { name: 'NodeResourcesBalancedAllocation', weight: 1 },
        { name: 'ImageLocality', weight: 1 },
        { name: 'DefaultBinder' },
      ],
    },
  };
}

const defaultResources = (): Array<{ name: string; weight: number }> => [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }];

/** Default args of the plugins that take args (SetDefaults_*Args). */
function defaultArgs(name: string, args: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const a: Record<string, unknown> = { ...(args ?? {}) };
  switch (name) {
    case 'DefaultPreemption':
      a['minCandidateNodesPercentage'] ??= 10;
      a['minCandidateNodesAbsolute'] ??= 100;
      return a;
    case 'InterPodAffinity':
      a['hardPodAffinityWeight'] ??= 1;
      return a;
    case 'NodeResourcesBalancedAllocation':
      if (!Array.isArray(a['resources']) || (a['resources'] as unknown[]).length === 0) a['resources'] = defaultResources();
      return a;
    case 'NodeResourcesFit': {
      const s = { ...((a['scoringStrategy'] as Record<string, unknown> | undefined) ?? { type: 'LeastAllocated' }) };
      s['type'] ??= 'LeastAllocated';
      if (!Array.isArray(s['resources']) || (s['resources'] as unknown[]).length === 0) s['resources'] = defaultResources();
      a['scoringStrategy'] = s;
      return a;
    }
    case 'PodTopologySpread':
      a['defaultingType'] ??= 'System';
      return a;
    case 'VolumeBinding':
      a['bindTimeoutSeconds'] ??= 600;
      return a;
    default:
      return args;
  }
}

/** mergePluginSet: default plugins (minus disabled) with custom re-configurations in place, then the other custom ones. */
function mergePluginSet(def: PluginSet, custom: PluginSet): PluginSet {
  const disabled: PluginRef[] = [...(custom.disabled ?? []), ...(def.disabled ?? [])].map((d) => ({ name: d.name }));
  const disabledNames = new Set(disabled.map((d) => d.name));
  const customEnabled = custom.enabled ?? [];
  const replaced = new Set<number>();
  const enabled: PluginRef[] = [];
  if (!disabledNames.has('*')) {
    for (const p of def.enabled ?? []) {
      if (disabledNames.has(p.name)) continue;
      const i = customEnabled.findIndex((c) => c.name === p.name);
      if (i >= 0) {
        replaced.add(i);
        enabled.push(customEnabled[i] as PluginRef);
      } else {
        enabled.push(p);
      }
    }
  }
  customEnabled.forEach((p, i) => {
    if (!replaced.has(i)) enabled.push(p);
  });
  return { enabled, disabled };
}

/** mergePlugins over every extension point and multiPoint. */
export function mergePlugins(def: Plugins, custom: Plugins | undefined): Plugins {
  if (custom === undefined) return def;
  const out: Plugins = {};
  for (const key of [...extensionPoints, 'multiPoint'] as const) {
    const d = def[key] ?? {};
    const c = custom[key];
    out[key] = c === undefined ? d : mergePluginSet(d, c);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intField(obj: Record<string, unknown>, key: string, path: Path, errs: ErrorList): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    errs.push(invalid(path.child(key), v, 'must be an integer'));
    return undefined;
  }
  return v;
}

function durationMs(v: unknown, fallback: number): number {
  if (typeof v !== 'string') return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (!m) return fallback;
  const n = Number(m[1]);
  const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000;
  return n * unit;
}

function parsePluginSet(v: unknown, path: Path, errs: ErrorList): PluginSet | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) {
    errs.push(invalid(path, v, 'must be an object'));
    return undefined;
  }
  const list = (key: 'enabled' | 'disabled'): PluginRef[] | undefined => {
    const raw = v[key];
    if (raw === undefined || raw === null) return undefined;
    if (!Array.isArray(raw)) {
      errs.push(invalid(path.child(key), raw, 'must be a list'));
      return undefined;
    }
    return raw.map((p, i) => {
      const pp = path.child(key).index(i);
      if (!isObject(p) || typeof p['name'] !== 'string' || p['name'] === '') {
        errs.push(required(pp.child('name')));
        return { name: '' };
      }
      const ref: PluginRef = { name: p['name'] };
      if (p['weight'] !== undefined) {
        if (typeof p['weight'] !== 'number' || !Number.isInteger(p['weight'])) errs.push(invalid(pp.child('weight'), p['weight'], 'must be an integer'));
        else ref.weight = p['weight'];
      }
      return ref;
    });
  };
  const set: PluginSet = {};
  const enabled = list('enabled');
  const disabled = list('disabled');
  if (enabled !== undefined) set.enabled = enabled;
  if (disabled !== undefined) set.disabled = disabled;
  return set;
}

function validateResources(resources: unknown, path: Path, errs: ErrorList): void {
  if (!Array.isArray(resources)) return;
  const seen = new Set<string>();
  resources.forEach((r, i) => {
    const p = path.index(i);
    if (!isObject(r)) return;
    const name = r['name'];
    if (typeof name !== 'string' || name === '') errs.push(required(p.child('name')));
    else if (seen.has(name)) errs.push(duplicate(p.child('name'), name));
    else seen.add(name);
    const w = r['weight'];
    if (typeof w !== 'number' || w < 1 || w > 100) errs.push(invalid(p.child('weight'), w, `resource weight of ${String(name)} not in valid range [1, 100]`));
  });
}

function validateTopologySpreadConstraints(cs: unknown, path: Path, errs: ErrorList): void {
  if (!Array.isArray(cs)) return;
  const seen = new Set<string>();
  (cs as TopologySpreadConstraint[]).forEach((c, i) => {
    const p = path.index(i);
    if (typeof c.maxSkew !== 'number' || c.maxSkew <= 0) errs.push(invalid(p.child('maxSkew'), c.maxSkew, 'not in valid range (0, inf)'));
    if (!c.topologyKey) errs.push(required(p.child('topologyKey'), 'can not be empty'));
    if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') {
      errs.push(notSupported(p.child('whenUnsatisfiable'), c.whenUnsatisfiable, ['DoNotSchedule', 'ScheduleAnyway']));
    }
    const pair = `${c.topologyKey}/${c.whenUnsatisfiable}`;
    if (seen.has(pair)) errs.push(duplicate(p, { topologyKey: c.topologyKey, whenUnsatisfiable: c.whenUnsatisfiable }));
    seen.add(pair);
    if (c.labelSelector !== undefined && c.labelSelector !== null) {
      errs.push(forbidden(p.child('labelSelector'), 'constraint must not define a selector, as they deduced for each pod'));
    }
  });
}

/** Plugin args validation (ValidateXxxArgs), for the plugins whose args tkube understands. */
function validateArgs(name: string, args: Record<string, unknown>, path: Path, errs: ErrorList): void {
  switch (name) {
    case 'DefaultPreemption': {
      const pct = args['minCandidateNodesPercentage'] as number;
      const abs = args['minCandidateNodesAbsolute'] as number;
      if (pct < 0 || pct > 100) errs.push(invalid(path.child('minCandidateNodesPercentage'), pct, 'not in valid range [0, 100]'));
      if (abs < 0) errs.push(invalid(path.child('minCandidateNodesAbsolute'), abs, 'not in valid range [0, inf)'));
      if (pct === 0 && abs === 0) errs.push(invalid(path.child('minCandidateNodesPercentage'), pct, 'cannot be zero at the same time as minCandidateNodesAbsolute'));
      break;
    }
    case 'InterPodAffinity': {
      const w = args['hardPodAffinityWeight'] as number;
      if (typeof w !== 'number' || w < 0 || w > 100) errs.push(invalid(path.child('hardPodAffinityWeight'), w, 'not in valid range [0, 100]'));
      break;
    }
    case 'NodeResourcesBalancedAllocation':
      validateResources(args['resources'], path.child('resources'), errs);
      break;
    case 'NodeResourcesFit': {
      const s = args['scoringStrategy'] as Record<string, unknown>;
      const sp = path.child('scoringStrategy');
      const types = ['LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio'];
      if (!types.includes(s['type'] as string)) errs.push(notSupported(sp.child('type'), s['type'], types));
      validateResources(s['resources'], sp.child('resources'), errs);
      if (s['type'] === 'RequestedToCapacityRatio') {
        const r = s['requestedToCapacityRatio'] as { shape?: Array<{ utilization: number; score: number }> } | undefined;
        const shape = r?.shape ?? [];
        const shp = sp.child('requestedToCapacityRatio', 'shape');
        if (shape.length === 0) errs.push(required(shp, 'at least one point must be specified'));
        shape.forEach((pt, i) => {
          if (pt.utilization < 0 || pt.utilization > 100) errs.push(invalid(shp.index(i).child('utilization'), pt.utilization, 'not in valid range [0, 100]'));
          else if (i > 0 && pt.utilization <= (shape[i - 1] as { utilization: number }).utilization) {
            errs.push(invalid(shp.index(i).child('utilization'), pt.utilization, 'utilization values must be sorted in increasing order'));
          }
          if (pt.score < 0 || pt.score > 10) errs.push(invalid(shp.index(i).child('score'), pt.score, 'not in valid range [0, 10]'));
        });
      }
      for (const key of ['ignoredResources', 'ignoredResourceGroups']) {
        const list = args[key];
        if (list !== undefined && !Array.isArray(list)) errs.push(invalid(path.child(key), list, 'must be a list'));
      }
      break;
    }
    case 'PodTopologySpread': {
      const type = args['defaultingType'];
      if (type !== 'System' && type !== 'List') errs.push(notSupported(path.child('defaultingType'), type, ['List', 'System']));
      validateTopologySpreadConstraints(args['defaultConstraints'], path.child('defaultConstraints'), errs);
      if (type === 'System' && Array.isArray(args['defaultConstraints']) && (args['defaultConstraints'] as unknown[]).length > 0) {
        errs.push(invalid(path.child('defaultingType'), type, 'when .defaultingType is "System", .defaultConstraints must be empty'));
      }
      break;
    }
    case 'VolumeBinding': {
      const t = args['bindTimeoutSeconds'];
      if (typeof t !== 'number' || t < 0) errs.push(invalid(path.child('bindTimeoutSeconds'), t, 'invalid BindTimeoutSeconds, should not be a negative value'));
      break;
    }
    default:
      break;
  }
}

function parseProfile(raw: unknown, path: Path, errs: ErrorList): ProfileSpec {
  const p = isObject(raw) ? raw : {};
  if (!isObject(raw)) errs.push(invalid(path, raw, 'must be an object'));
  const schedulerName = typeof p['schedulerName'] === 'string' && p['schedulerName'] !== '' ? p['schedulerName'] : DefaultSchedulerName;
  const pct = intField(p, 'percentageOfNodesToScore', path, errs);
  if (pct !== undefined && (pct < 0 || pct > 100)) errs.push(invalid(path.child('percentageOfNodesToScore'), pct, 'not in valid range [0-100]'));

  let custom: Plugins | undefined;
  if (p['plugins'] !== undefined && p['plugins'] !== null) {
    if (!isObject(p['plugins'])) {
      errs.push(invalid(path.child('plugins'), p['plugins'], 'must be an object'));
    } else {
      custom = {};
      for (const key of [...extensionPoints, 'multiPoint'] as const) {
        const set = parsePluginSet(p['plugins'][key], path.child('plugins', key), errs);
        if (set !== undefined) custom[key] = set;
      }
    }
  }
  const plugins = mergePlugins(defaultPlugins(), custom);

  const userArgs = new Map<string, Record<string, unknown>>();
  const pluginConfig = p['pluginConfig'];
  if (pluginConfig !== undefined && pluginConfig !== null) {
    if (!Array.isArray(pluginConfig)) {
      errs.push(invalid(path.child('pluginConfig'), pluginConfig, 'must be a list'));
    } else {
      pluginConfig.forEach((pc, i) => {
        const pp = path.child('pluginConfig').index(i);
        if (!isObject(pc) || typeof pc['name'] !== 'string' || pc['name'] === '') {
          errs.push(required(pp.child('name')));
          return;
        }
        if (userArgs.has(pc['name'])) {
          errs.push(duplicate(pp, pc['name']));
          return;
        }
        const args = pc['args'];
        if (args !== undefined && args !== null && !isObject(args)) errs.push(invalid(pp.child('args'), args, 'must be an object'));
        userArgs.set(pc['name'], isObject(args) ? args : {});
      });
    }
  }
  // Every enabled plugin gets its defaulted args, whether or not the profile configured any.
  const enabledNames = new Set<string>();
  for (const key of [...extensionPoints, 'multiPoint'] as const) for (const e of plugins[key]?.enabled ?? []) enabledNames.add(e.name);
  const pluginArgs = new Map<string, unknown>();
  for (const name of new Set([...enabledNames, ...userArgs.keys()])) {
    const a = defaultArgs(name, userArgs.get(name));
    if (a === undefined) continue;
    pluginArgs.set(name, a);
    const idx = [...userArgs.keys()].indexOf(name);
    const argsPath = idx >= 0 ? path.child('pluginConfig').index(idx).child('args') : path.child('pluginConfig').key(name);
    validateArgs(name, a, argsPath, errs);
  }
  return { schedulerName, plugins, pluginArgs, percentageOfNodesToScore: pct ?? null };
}

/** The configuration as kube-scheduler would run it without a config file. */
export function defaultSchedulerConfig(): SchedulerConfig {
  return schedulerConfigFromObject({ apiVersion: SchedulerConfigAPIVersion, kind: 'KubeSchedulerConfiguration' });
}

/** Defaults and validates a decoded configuration object; throws FieldErrorsError. */
export function schedulerConfigFromObject(obj: unknown): SchedulerConfig {
  const errs: ErrorList = [];
  if (!isObject(obj)) throw new FieldErrorsError([invalid(null, obj, 'must be an object')]);
  if (obj['kind'] !== 'KubeSchedulerConfiguration' || obj['apiVersion'] !== SchedulerConfigAPIVersion) {
    throw new Error(`no kind ${JSON.stringify(String(obj['kind'] ?? ''))} is registered for version ${JSON.stringify(String(obj['apiVersion'] ?? ''))}; want ${SchedulerConfigAPIVersion} KubeSchedulerConfiguration`);
  }
  const at = (name: string): Path => newPath(name);
  const top = (key: string): number | undefined => {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      errs.push(invalid(at(key), v, 'must be an integer'));
      return undefined;
    }
    return v;
  };
  const parallelism = top('parallelism') ?? 16;
  if (parallelism <= 0) errs.push(invalid(at('parallelism'), parallelism, 'should be an integer value greater than zero'));
  const pct = top('percentageOfNodesToScore') ?? 0;
  if (pct < 0 || pct > 100) errs.push(invalid(at('percentageOfNodesToScore'), pct, 'not in valid range [0-100]'));
  const initial = top('podInitialBackoffSeconds') ?? 1;
  if (initial <= 0) errs.push(invalid(at('podInitialBackoffSeconds'), initial, 'must be greater than 0'));
  const max = top('podMaxBackoffSeconds') ?? 10;
  if (max < initial) errs.push(invalid(at('podMaxBackoffSeconds'), max, 'must be greater than or equal to PodInitialBackoffSeconds'));

  const le = isObject(obj['leaderElection']) ? obj['leaderElection'] : {};
  const leaderElection: LeaderElectionConfig = {
    leaderElect: le['leaderElect'] === undefined ? true : le['leaderElect'] === true,
    leaseDurationMs: durationMs(le['leaseDuration'], 15_000),
    renewDeadlineMs: durationMs(le['renewDeadline'], 10_000),
    retryPeriodMs: durationMs(le['retryPeriod'], 2_000),
    resourceLock: typeof le['resourceLock'] === 'string' ? le['resourceLock'] : 'leases',
    resourceName: typeof le['resourceName'] === 'string' ? le['resourceName'] : 'kube-scheduler',
    resourceNamespace: typeof le['resourceNamespace'] === 'string' ? le['resourceNamespace'] : 'kube-system',
  };

  const rawProfiles = obj['profiles'];
  const profiles: ProfileSpec[] = [];
  if (rawProfiles === undefined || rawProfiles === null || (Array.isArray(rawProfiles) && rawProfiles.length === 0)) {
    profiles.push(parseProfile({ schedulerName: DefaultSchedulerName }, at('profiles').index(0), errs));
  } else if (!Array.isArray(rawProfiles)) {
    errs.push(invalid(at('profiles'), rawProfiles, 'must be a list'));
  } else {
    const names = new Set<string>();
    rawProfiles.forEach((rp, i) => {
      const p = parseProfile(rp, at('profiles').index(i), errs);
      if (isObject(rp) && (rp['schedulerName'] === undefined || rp['schedulerName'] === '') && rawProfiles.length > 1) {
        errs.push(required(at('profiles').index(i).child('schedulerName')));
      }
      if (names.has(p.schedulerName)) errs.push(duplicate(at('profiles').index(i).child('schedulerName'), p.schedulerName));
      names.add(p.schedulerName);
      profiles.push(p);
    });
    // One queue serves all profiles, so they must sort it the same way.
    const sortOf = (p: ProfileSpec): string => JSON.stringify(p.plugins.queueSort ?? {}) + JSON.stringify((p.plugins.multiPoint?.enabled ?? []).filter((e) => e.name === 'PrioritySort'));
    profiles.forEach((p, i) => {
      if (i > 0 && sortOf(p) !== sortOf(profiles[0] as ProfileSpec)) {
        errs.push(invalid(at('profiles').index(i).child('plugins', 'queueSort'), p.plugins.queueSort ?? {}, 'must be the same for all profiles'));
      }
    });
  }
  if (errs.length > 0) throw new FieldErrorsError(errs);
  return { parallelism, percentageOfNodesToScore: pct, podInitialBackoffSeconds: initial, podMaxBackoffSeconds: max, leaderElection, profiles };
}

/** Parses a KubeSchedulerConfiguration file (YAML or JSON). */
export function parseSchedulerConfig(text: string): SchedulerConfig {
  let obj: unknown;
  try {
    obj = parse(text);
  } catch (err) {
    throw new Error(`couldn't decode as KubeSchedulerConfiguration: ${err instanceof Error ? err.message : String(err)}`);
  }
  return schedulerConfigFromObject(obj);
}
