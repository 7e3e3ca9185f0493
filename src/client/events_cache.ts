// Upstream's EventCorrelator (client-go tools/record/events_cache.go): similar events with 10 distinct
// messages within 10 minutes are combined, exact repeats become a patch bumping `count` and
// `lastTimestamp` of the existing Event, and a per source+object token bucket drops spam.
import type { Event } from '../api/types/core_v1.ts';
import { formatTime, type Clock } from './clock.ts';
import { TokenBucket } from './token_bucket.ts';

/** Correlator settings; defaults are upstream's. */
export interface CorrelatorOptions {
  readonly clock: Clock;
  /** Entries of each LRU cache (4096). */
  readonly lruCacheSize?: number;
  /** Events a source may burst about one object (25). */
  readonly burst?: number;
  /** Refill rate of that bucket per second (1/300: one event every 5 minutes). */
  readonly qps?: number;
  /** Distinct messages of similar events before they are combined (10). */
  readonly maxEvents?: number;
  /** Seconds after which similar events count afresh (600). */
  readonly maxIntervalSeconds?: number;
}

/** What to do with one event. */
export interface CorrelateResult {
  readonly event: Event;
  /** When set, patch the existing Event (strategic merge) instead of creating one. */
  readonly patch?: Record<string, unknown>;
  /** Drop the event (rate limited). */
  readonly skip: boolean;
}

const DEFAULT_LRU = 4096;
const AGGREGATE_PREFIX = '(combined from similar events): ';

/** A Map that forgets its least recently used entries beyond `max`. */
class Lru<V> {
  #map = new Map<string, V>();
  #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.#map.delete(key);
    this.#map.set(key, v);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
  }
}

/** Identifies an exact repeat: source, object, type, reason and message. */
export function eventKey(e: Event): string {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.fieldPath, o.uid, o.apiVersion, e.type, e.reason, e.message]
    .map((s) => s ?? '').join('');
}

/** Identifies the spam bucket: source and object. */
export function spamKey(e: Event): string {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion].map((s) => s ?? '').join('');
}

/** Groups events that differ only by message. */
function aggregateKey(e: Event): { aggregate: string; local: string } {
  const o = e.involvedObject;
  const aggregate = [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion, e.type, e.reason, e.reportingComponent, e.reportingInstance]
    .map((s) => s ?? '').join('');
  return { aggregate, local: e.message ?? '' };
}

interface AggregateRecord {
  localKeys: Set<string>;
  lastTimestamp: number;
}

interface EventLog {
  count: number;
  firstTimestamp: string | undefined;
  name: string;
  resourceVersion: string | undefined;
}

/** Filters, aggregates and de-duplicates events; one per broadcaster sink. */
export class EventCorrelator {
  #clock: Clock;
  #spam: Lru<TokenBucket>;
  #aggregates: Lru<AggregateRecord>;
  #logs: Lru<EventLog>;
  #burst: number;
  #qps: number;
  #maxEvents: number;
  #maxIntervalMs: number;
  #nameNanos: (ms: number) => string;

  constructor(opts: CorrelatorOptions, nameNanos: (ms: number) => string) {
    const size = opts.lruCacheSize ?? DEFAULT_LRU;
    this.#clock = opts.clock;
    this.#spam = new Lru(size);
    this.#aggregates = new Lru(size);
    this.#logs = new Lru(size);
    this.#burst = opts.burst ?? 25;
    this.#qps = opts.qps ?? 1 / 300;
    this.#maxEvents = opts.maxEvents ?? 10;
    this.#maxIntervalMs = (opts.maxIntervalSeconds ?? 600) * 1000;
    this.#nameNanos = nameNanos;
  }

  /** Decides what to write for `event` (EventCorrelate). */
  correlate(event: Event): CorrelateResult {
    const { event: aggregated, key } = this.#aggregate(event);
    const { event: observed, patch } = this.#observe(aggregated, key);
    if (this.#filter(observed)) return { event: observed, skip: true };
    return patch ? { event: observed, patch, skip: false } : { event: observed, skip: false };
  }

  /** Remembers the server's copy (name, resourceVersion, count) after a successful write. */
  updateState(event: Event): void {
    const key = eventKey(event);
    const seen = this.#logs.get(key);
    if (seen && seen.name === event.metadata.name && seen.count > (event.count ?? 0)) {
      // Later repeats were correlated while this write was queued: keep their count.
      seen.resourceVersion = event.metadata.resourceVersion;
      return;
    }
    this.#logs.set(key, {
      count: event.count ?? 0,
      firstTimestamp: event.firstTimestamp,
      name: event.metadata.name ?? '',
      resourceVersion: event.metadata.resourceVersion,
    });
  }

  #aggregate(event: Event): { event: Event; key: string } {
    const now = this.#clock.now();
    const full = eventKey(event);
    const { aggregate, local } = aggregateKey(event);
    let rec = this.#aggregates.get(aggregate);
    if (!rec || now - rec.lastTimestamp > this.#maxIntervalMs) rec = { localKeys: new Set(), lastTimestamp: 0 };
    rec.localKeys.add(local);
    rec.lastTimestamp = now;
    this.#aggregates.set(aggregate, rec);
    if (rec.localKeys.size < this.#maxEvents) return { event, key: full };
    // Keep the set from growing past the threshold (any member may go, as upstream's PopAny).
    const first = rec.localKeys.values().next().value as string;
    rec.localKeys.delete(first);
    const ts = formatTime(now);
    const combined: Event = {
      metadata: { name: `${event.involvedObject.name ?? ''}.${this.#nameNanos(now)}`, namespace: event.metadata.namespace ?? '' },
      count: 1,
      firstTimestamp: ts,
      involvedObject: event.involvedObject,
      lastTimestamp: ts,
      message: AGGREGATE_PREFIX + (event.message ?? ''),
      type: event.type ?? '',
      reason: event.reason ?? '',
      source: event.source ?? {},
    };
    return { event: combined, key: aggregate };
  }

  #observe(event: Event, key: string): { event: Event; patch?: Record<string, unknown> } {
    const last = this.#logs.get(key);
    let out = event;
    let patch: Record<string, unknown> | undefined;
    if (last && last.count > 0) {
      const metadata = { ...event.metadata, name: last.name };
      if (last.resourceVersion !== undefined) metadata.resourceVersion = last.resourceVersion;
      else delete metadata.resourceVersion;
      out = { ...event, metadata, count: last.count + 1 };
      if (last.firstTimestamp !== undefined) out.firstTimestamp = last.firstTimestamp;
      // The two-way strategic merge patch upstream computes against {count 0, lastTimestamp epoch, message ""}.
      patch = { count: out.count, lastTimestamp: out.lastTimestamp ?? null };
      if (out.message) patch['message'] = out.message;
    }
    this.#logs.set(key, {
      count: out.count ?? 0,
      firstTimestamp: out.firstTimestamp,
      name: out.metadata.name ?? '',
      resourceVersion: out.metadata.resourceVersion,
    });
    return patch ? { event: out, patch } : { event: out };
  }

  #filter(event: Event): boolean {
    const key = spamKey(event);
    let bucket = this.#spam.get(key);
    if (!bucket) bucket = new TokenBucket(this.#qps, this.#burst, this.#clock);
    const skip = !bucket.tryAccept();
    this.#spam.set(key, bucket);
    return skip;
  }
}

