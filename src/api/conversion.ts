// Conversion between the served versions of one stored object: autoscaling/v1 and v2
// HorizontalPodAutoscalers (stored as v2), and core/v1 and events.k8s.io/v1 Events (stored as core).
// Pure functions over JSON; fields v1 cannot express travel in upstream's annotations.

type Obj = Record<string, unknown>;

/** Converts an object of group/version `from` into `to` (same kind); returns a new object. */
export type Converter = (obj: Obj) => Obj;

const converters = new Map<string, Converter>();

function key(fromGV: string, toGV: string, kind: string): string {
  return `${fromGV}->${toGV}/${kind}`;
}

function register(fromGV: string, toGV: string, kind: string, fn: Converter): void {
  converters.set(key(fromGV, toGV, kind), fn);
}

/** Converts `obj` between group-versions ("v1", "autoscaling/v2"); identity when they are equal. */
export function convertObject(obj: Obj, fromGV: string, toGV: string, kind: string): Obj {
  if (fromGV === toGV) return obj;
  const fn = converters.get(key(fromGV, toGV, kind));
  if (!fn) throw new Error(`no conversion for ${kind} from ${fromGV} to ${toGV}`);
  const out = fn(structuredClone(obj));
  out['apiVersion'] = toGV;
  out['kind'] = kind;
  return out;
}

/** Whether a conversion exists. */
export function canConvert(fromGV: string, toGV: string, kind: string): boolean {
  return fromGV === toGV || converters.has(key(fromGV, toGV, kind));
}

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Obj : undefined;
}

function move(o: Obj, from: string, to: string): void {
  if (from in o) {
    if (o[from] !== undefined) o[to] = o[from];
    delete o[from];
  }
}

// --- autoscaling: v2 is the storage version ---------------------------------------------------

const HPA_METRICS = 'autoscaling.alpha.kubernetes.io/metrics';
const HPA_CURRENT_METRICS = 'autoscaling.alpha.kubernetes.io/current-metrics';
const HPA_CONDITIONS = 'autoscaling.alpha.kubernetes.io/conditions';
const HPA_BEHAVIOR = 'autoscaling.alpha.kubernetes.io/behavior';

function annotations(o: Obj): Obj {
  const m = (o['metadata'] ??= {}) as Obj;
  return (m['annotations'] ??= {}) as Obj;
}

function isCpuUtilization(m: Obj): boolean {
  const r = obj(m['resource']);
  const t = obj(r?.['target']);
  return m['type'] === 'Resource' && r?.['name'] === 'cpu' && t?.['type'] === 'Utilization';
}

function tidyAnnotations(o: Obj): void {
  const m = obj(o['metadata']);
  const a = obj(m?.['annotations']);
  if (m && a && Object.keys(a).length === 0) delete m['annotations'];
}

register('autoscaling/v2', 'autoscaling/v1', 'HorizontalPodAutoscaler', (o) => {
  const spec = obj(o['spec']) ?? {};
  const metrics = Array.isArray(spec['metrics']) ? spec['metrics'] as Obj[] : [];
  const out: Obj = { scaleTargetRef: spec['scaleTargetRef'] };
  if (spec['minReplicas'] !== undefined) out['minReplicas'] = spec['minReplicas'];
  out['maxReplicas'] = spec['maxReplicas'];
  const other: Obj[] = [];
  for (const m of metrics) {
    if (isCpuUtilization(m) && out['targetCPUUtilizationPercentage'] === undefined) {
      out['targetCPUUtilizationPercentage'] = (obj(obj(m['resource'])?.['target'])?.['averageUtilization']);
    } else {
      other.push(m);
    }
  }
  if (other.length > 0) annotations(o)[HPA_METRICS] = JSON.stringify(other);
  if (spec['behavior'] !== undefined) annotations(o)[HPA_BEHAVIOR] = JSON.stringify(spec['behavior']);
  o['spec'] = out;
  const status = obj(o['status']);
  if (status) {
    const s: Obj = {};
    if (status['observedGeneration'] !== undefined) s['observedGeneration'] = status['observedGeneration'];
    if (status['lastScaleTime'] !== undefined) s['lastScaleTime'] = status['lastScaleTime'];
    s['currentReplicas'] = status['currentReplicas'] ?? 0;
    s['desiredReplicas'] = status['desiredReplicas'] ?? 0;
    const current = Array.isArray(status['currentMetrics']) ? status['currentMetrics'] as Obj[] : [];
    const rest: Obj[] = [];
    for (const m of current) {
      const r = obj(m['resource']);
      if (m['type'] === 'Resource' && r?.['name'] === 'cpu' && obj(r['current'])?.['averageUtilization'] !== undefined && s['currentCPUUtilizationPercentage'] === undefined) {
        s['currentCPUUtilizationPercentage'] = obj(r['current'])!['averageUtilization'];
      } else {
        rest.push(m);
      }
    }
    if (rest.length > 0) annotations(o)[HPA_CURRENT_METRICS] = JSON.stringify(rest);
    if (Array.isArray(status['conditions']) && status['conditions'].length > 0) annotations(o)[HPA_CONDITIONS] = JSON.stringify(status['conditions']);
    o['status'] = s;
  }
  return o;
});

register('autoscaling/v1', 'autoscaling/v2', 'HorizontalPodAutoscaler', (o) => {
  const spec = obj(o['spec']) ?? {};
  const a = obj(obj(o['metadata'])?.['annotations']) ?? {};
  const out: Obj = { scaleTargetRef: spec['scaleTargetRef'] };
  if (spec['minReplicas'] !== undefined) out['minReplicas'] = spec['minReplicas'];
  out['maxReplicas'] = spec['maxReplicas'];
  const metrics: Obj[] = [];
  if (typeof spec['targetCPUUtilizationPercentage'] === 'number') {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec['targetCPUUtilizationPercentage'] } } });
  }
  const parse = (name: string): unknown => {
    const v = a[name];
    delete a[name];
    if (typeof v !== 'string') return undefined;
    try { return JSON.parse(v); } catch { return undefined; }
  };
  const extra = parse(HPA_METRICS);
  if (Array.isArray(extra)) metrics.push(...(extra as Obj[]));
  if (metrics.length > 0) out['metrics'] = metrics;
  const behavior = parse(HPA_BEHAVIOR);
  if (behavior !== undefined) out['behavior'] = behavior;
  o['spec'] = out;
  const currentExtra = parse(HPA_CURRENT_METRICS);
  const conditions = parse(HPA_CONDITIONS);
  const status = obj(o['status']);
  if (status) {
    const s: Obj = {};
    if (status['observedGeneration'] !== undefined) s['observedGeneration'] = status['observedGeneration'];
    if (status['lastScaleTime'] !== undefined) s['lastScaleTime'] = status['lastScaleTime'];
    s['currentReplicas'] = status['currentReplicas'] ?? 0;
    s['desiredReplicas'] = status['desiredReplicas'] ?? 0;
    const current: Obj[] = [];
    if (typeof status['currentCPUUtilizationPercentage'] === 'number') {
      current.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status['currentCPUUtilizationPercentage'] } } });
    }
    if (Array.isArray(currentExtra)) current.push(...(currentExtra as Obj[]));
    if (current.length > 0) s['currentMetrics'] = current;
    if (Array.isArray(conditions)) s['conditions'] = conditions;
    o['status'] = s;
  }
  tidyAnnotations(o);
  return o;
});

// --- events: core/v1 is the storage version ---------------------------------------------------

const EVENT_RENAMES: ReadonlyArray<[core: string, events: string]> = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['reportingComponent', 'reportingController'],
];

register('v1', 'events.k8s.io/v1', 'Event', (o) => {
  for (const [c, e] of EVENT_RENAMES) move(o, c, e);
  return o;
});

register('events.k8s.io/v1', 'v1', 'Event', (o) => {
  for (const [c, e] of EVENT_RENAMES) move(o, e, c);
  return o;
});
