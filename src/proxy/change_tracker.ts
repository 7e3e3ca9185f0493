// Incremental change tracking between syncs, after upstream's ServiceChangeTracker and
// EndpointsChangeTracker: informer events accumulate per Service as (state at last sync, state now)
// pairs; a sync checks them out and applies them to the ServicePortMap / EndpointsMap.

import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  LABEL_SERVICE_NAME,
  endpointsForSlices,
  objectKey,
  servicePortsForService,
  sliceInfo,
  type ServicePortOptions,
  type SliceInfo,
} from './service_port.ts';
import type { EndpointInfo, EndpointSlice, EndpointsMap, Service, ServicePortInfo, ServicePortMap } from './types.ts';

interface ServiceChange {
  previous: Map<string, ServicePortInfo>;
  current: Map<string, ServicePortInfo>;
}

function portMapsEqual(a: Map<string, ServicePortInfo>, b: Map<string, ServicePortInfo>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || JSON.stringify(v) !== JSON.stringify(w)) return false;
  }
  return true;
}

/** Accumulates Service changes since the last sync. */
export class ServiceChangeTracker {
  readonly #items = new Map<string, ServiceChange>();
  readonly #opts: ServicePortOptions;

  constructor(opts: ServicePortOptions) {
    this.#opts = opts;
  }

  /** Records add (previous undefined), update, or delete (current undefined); true if changes are pending. */
  update(previous: Service | undefined, current: Service | undefined): boolean {
    const svc = current ?? previous;
    if (!svc) return this.#items.size > 0;
    const key = objectKey(svc);
    let change = this.#items.get(key);
    if (!change) {
      change = { previous: previous ? servicePortsForService(previous, this.#opts) : new Map(), current: new Map() };
      this.#items.set(key, change);
    }
    change.current = current ? servicePortsForService(current, this.#opts) : new Map();
    // A change that returns to the synced state is no change at all.
    if (portMapsEqual(change.previous, change.current)) this.#items.delete(key);
    return this.#items.size > 0;
  }

  /** Number of Services with pending changes. */
  get pending(): number {
    return this.#items.size;
  }

  /** Hands out the pending changes and forgets them. */
  checkout(): Map<string, ServiceChange> {
    const out = new Map(this.#items);
    this.#items.clear();
    return out;
  }
}

/** What applying Service changes did. */
export interface ServiceUpdateResult {
  /** "namespace/name" of every Service whose ports changed. */
  updatedServices: Set<string>;
  /** ClusterIPs of UDP service ports that went away (their conntrack entries are stale). */
  deletedUDPClusterIPs: Set<string>;
}

/** Applies the tracker's pending changes to `map`. */
export function applyServiceChanges(map: ServicePortMap, tracker: ServiceChangeTracker): ServiceUpdateResult {
  const result: ServiceUpdateResult = { updatedServices: new Set(), deletedUDPClusterIPs: new Set() };
  for (const [key, change] of tracker.checkout()) {
    result.updatedServices.add(key);
    for (const [spKey, info] of change.current) map.set(spKey, info);
    for (const [spKey, info] of change.previous) {
      if (change.current.has(spKey) || !map.has(spKey)) continue;
      if (info.protocol === 'UDP') result.deletedUDPClusterIPs.add(info.clusterIP);
      map.delete(spKey);
    }
  }
  return result;
}

interface SliceTracker {
  /** Slices as of the last sync, by slice name, with their JSON for cheap comparison. */
  applied: Map<string, { info: SliceInfo; json: string }>;
  /** Slices changed since; null marks a removal. */
  pending: Map<string, { info: SliceInfo; json: string } | null>;
}

interface EndpointsChange {
  previous: EndpointsMap;
  current: EndpointsMap;
}

/** Accumulates EndpointSlice changes since the last sync (upstream's EndpointSliceCache). */
export class EndpointsChangeTracker {
  readonly #nodeName: string;
  readonly #services = new Map<string, SliceTracker>();
  readonly #triggerTimes = new Map<string, number[]>();
  readonly #startTime: number;

  constructor(nodeName: string, now: number = Date.now()) {
    this.#nodeName = nodeName;
    this.#startTime = now;
  }

  /**
   * Records an added/updated slice (remove false) or a deleted one; true if this changed anything.
   * `now` stands in for the trigger time when the slice carries no last-change-trigger-time.
   */
  endpointSliceUpdate(slice: EndpointSlice, remove: boolean, now: number = Date.now()): boolean {
    const serviceName = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
    const ns = slice.metadata?.namespace;
    const sliceName = slice.metadata?.name;
    if (!serviceName || !ns || !sliceName) return false;
    const key = `${ns}/${serviceName}`;
    let tracker = this.#services.get(key);
    if (!tracker) this.#services.set(key, (tracker = { applied: new Map(), pending: new Map() }));
    let next: { info: SliceInfo; json: string } | null = null;
    if (!remove) {
      const info = sliceInfo(slice);
      next = { info, json: JSON.stringify(info) };
    }
    // Compare with what the next sync would otherwise apply: the pending state, else the applied one.
    const base = tracker.pending.has(sliceName) ? (tracker.pending.get(sliceName) ?? null) : (tracker.applied.get(sliceName) ?? null);
    if (base === null ? next === null : next !== null && next.json === base.json) return false;
    tracker.pending.set(sliceName, next);
    if (remove) {
      // A deletion's trigger time is that of an older write, which would overstate latency.
      this.#triggerTimes.delete(key);
    } else {
      const annotated = slice.metadata?.annotations?.[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
      const t = annotated ? Date.parse(annotated) : now;
      if (Number.isFinite(t) && t >= this.#startTime - 1000) {
        const list = this.#triggerTimes.get(key) ?? [];
        list.push(t);
        this.#triggerTimes.set(key, list);
      }
    }
    return true;
  }

  /** Services with pending changes. */
  get pending(): number {
    let n = 0;
    for (const t of this.#services.values()) if (t.pending.size > 0) n++;
    return n;
  }

  /** Hands out pending changes (state at last sync and now, per Service) and marks them applied. */
  checkout(): { changes: Map<string, EndpointsChange>; triggerTimes: Map<string, number[]> } {
    const changes = new Map<string, EndpointsChange>();
    for (const [key, tracker] of this.#services) {
      if (tracker.pending.size === 0) continue;
      const previous = endpointsForSlices(key, [...tracker.applied.values()].map((s) => s.info), this.#nodeName);
      for (const [name, next] of tracker.pending) {
        if (next === null) tracker.applied.delete(name);
        else tracker.applied.set(name, next);
      }
      tracker.pending.clear();
      const current = endpointsForSlices(key, [...tracker.applied.values()].map((s) => s.info), this.#nodeName);
      if (tracker.applied.size === 0) this.#services.delete(key);
      changes.set(key, { previous, current });
    }
    const triggerTimes = new Map(this.#triggerTimes);
    this.#triggerTimes.clear();
    return { changes, triggerTimes };
  }
}

/** An endpoint of a service port, for conntrack cleanup. */
export interface ServiceEndpoint {
  servicePortKey: string;
  endpoint: EndpointInfo;
}

/** What applying endpoint changes did. */
export interface EndpointsUpdateResult {
  /** "namespace/name" of every Service whose endpoints changed. */
  updatedServices: Set<string>;
  /** UDP endpoints that were serving and no longer are: flows to them must be forgotten. */
  deletedUDPEndpoints: ServiceEndpoint[];
  /** UDP service ports that went from no serving endpoint to some: flows cached while they were rejected must go. */
  newlyActiveUDPServices: string[];
  /** Per Service, when the changes now being applied were triggered (ms since epoch). */
  lastChangeTriggerTimes: Map<string, number[]>;
}

function isUDPKey(spKey: string): boolean {
  return spKey.endsWith('/UDP');
}

/** Applies the tracker's pending changes to `map`. */
export function applyEndpointsChanges(map: EndpointsMap, tracker: EndpointsChangeTracker): EndpointsUpdateResult {
  const { changes, triggerTimes } = tracker.checkout();
  const result: EndpointsUpdateResult = {
    updatedServices: new Set(),
    deletedUDPEndpoints: [],
    newlyActiveUDPServices: [],
    lastChangeTriggerTimes: triggerTimes,
  };
  for (const [key, change] of changes) {
    result.updatedServices.add(key);
    detectStaleConntrackEntries(change.previous, change.current, result);
    for (const spKey of change.previous.keys()) map.delete(spKey);
    for (const [spKey, eps] of change.current) map.set(spKey, eps);
  }
  return result;
}

function detectStaleConntrackEntries(oldMap: EndpointsMap, newMap: EndpointsMap, result: EndpointsUpdateResult): void {
  for (const [spKey, eps] of oldMap) {
    if (!isUDPKey(spKey)) continue;
    const now = newMap.get(spKey) ?? [];
    for (const ep of eps) {
      // Traffic to a non-serving endpoint was never sent, so nothing can be stale.
      if (!ep.serving) continue;
      if (!now.some((n) => n.endpoint === ep.endpoint && n.serving)) {
        result.deletedUDPEndpoints.push({ servicePortKey: spKey, endpoint: ep });
      }
    }
  }
  for (const [spKey, eps] of newMap) {
    if (!isUDPKey(spKey)) continue;
    const serving = eps.some((e) => e.serving);
    const wasServing = (oldMap.get(spKey) ?? []).some((e) => e.serving);
    if (serving && !wasServing) result.newlyActiveUDPServices.push(spKey);
  }
}
