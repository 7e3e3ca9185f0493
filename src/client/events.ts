// The event recorder (client-go tools/record event.go): recorder.event() never waits; the broadcaster
// correlates events as they are recorded, queues those left to write (1000 at most) and creates or
// patches core/v1 Events a few at a time, retrying only transport failures (12 tries, 10 s apart).
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import type { Event, ObjectReference } from '../api/types/core_v1.ts';
import { ApiStatusError, hasStatusCause, isAlreadyExists, isNotFound } from './api_errors.ts';
import { formatTime, realClock, sleep, type Clock } from './clock.ts';
import { EventCorrelator, type CorrelateResult, type CorrelatorOptions } from './events_cache.ts';
import type { RestClient } from './rest_client.ts';
import type { KubeObject, ResourceClient } from './resource_client.ts';
import { resourceDescriptor } from './resource_descriptor.ts';
import { sprintf } from './sprintf.ts';

const log = logger('events');

/** Event types (v1.EventTypeNormal, v1.EventTypeWarning). */
export const EventType = { Normal: 'Normal', Warning: 'Warning' } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Who reports: the component ("replicaset-controller", "default-scheduler", "kubelet") and host. */
export interface EventSource {
  readonly component: string;
  readonly host?: string;
}

/** Records events about objects; never blocks and never throws. */
export interface EventRecorder {
  /** `obj` is an object with apiVersion/kind/metadata, or an ObjectReference. */
  event(obj: KubeObject | ObjectReference, type: string, reason: string, message: string): void;
  /** Like event() with a Go format string. */
  eventf(obj: KubeObject | ObjectReference, type: string, reason: string, format: string, ...args: unknown[]): void;
  /** Like eventf(), with annotations on the Event. */
  annotatedEventf(obj: KubeObject | ObjectReference, annotations: Record<string, string>, type: string, reason: string, format: string, ...args: unknown[]): void;
}

/** Where events go (the API by default). */
export interface EventSink {
  create(event: Event, signal: AbortSignal): Promise<Event>;
  /** Strategic-merge patch of the Event named in `event`. */
  patch(event: Event, patch: Record<string, unknown>, signal: AbortSignal): Promise<Event>;
}

/** Options of a broadcaster. */
export interface EventBroadcasterOptions {
  /** Writes through this client's core/v1 events (or give `sink`). */
  readonly client?: RestClient;
  readonly sink?: EventSink;
  readonly clock?: Clock;
  /** Pause between retries of a failed write (10 s). */
  readonly sleepMs?: number;
  /** Correlator settings (spam burst/qps, aggregation). */
  readonly correlator?: Omit<CorrelatorOptions, 'clock'>;
  /** Queue bound; further events are dropped (1000). */
  readonly maxQueued?: number;
  /** Writes in flight at once (4); writes of one Event always go in order. */
  readonly maxConcurrentWrites?: number;
}

const MAX_TRIES_PER_EVENT = 12;
/**
 * Upstream's core/v1 recorder writes one Event at a time, its events/v1 broadcaster (the scheduler's)
 * one goroutine per Event. One at a time cannot keep up with a component reporting on many objects
 * (a "Scheduled" per pod) when each write waits on a busy API server, so a few go at once.
 */
const DEFAULT_CONCURRENT_WRITES = 4;

/** The sink writing core/v1 Events through the API. */
export function apiEventSink(client: RestClient): EventSink {
  const events: ResourceClient<Event> = client.resource<Event>(resourceDescriptor('v1', 'events'));
  return {
    create: (event, signal) => events.create(event, { signal }),
    patch: (event, patch, signal) =>
      events.inNamespace(event.metadata.namespace ?? '').patch(event.metadata.name ?? '', 'strategic', patch, { signal }),
  };
}

/** Queues events from its recorders and writes them; dispose drops what is still queued. */
export class EventBroadcaster implements Disposable {
  #sink: EventSink;
  #clock: Clock;
  #sleepMs: number;
  #maxQueued: number;
  #correlator: EventCorrelator;
  /** Correlated events waiting to be written (spam was already filtered out). */
  #queue: CorrelateResult[] = [];
  #maxWriters: number;
  #writers = new Set<Promise<void>>();
  /** The last write of each Event name queued or in flight, so writes of one Event stay in order. */
  #tails = new Map<string, Promise<void>>();
  #abort = new AbortController();
  #idleWaiters: (() => void)[] = [];
  #lastNanos = 0n;

  constructor(opts: EventBroadcasterOptions) {
    const sink = opts.sink ?? (opts.client ? apiEventSink(opts.client) : undefined);
    if (!sink) throw new Error('EventBroadcaster: give a client or a sink');
    this.#sink = sink;
    this.#clock = opts.clock ?? realClock;
    this.#sleepMs = opts.sleepMs ?? 10_000;
    this.#maxQueued = opts.maxQueued ?? 1000;
    this.#maxWriters = Math.max(1, opts.maxConcurrentWrites ?? DEFAULT_CONCURRENT_WRITES);
    this.#correlator = new EventCorrelator({ ...opts.correlator, clock: this.#clock }, (ms) => this.#nanosHex(ms));
  }

  /** A recorder reporting as `source`. */
  newRecorder(source: EventSource): EventRecorder {
    if (!source || typeof source.component !== 'string' || source.component === '') {
      throw new Error(`newRecorder: source.component must be a non-empty string, got ${JSON.stringify(source?.component)}`);
    }
    const generate = (obj: KubeObject | ObjectReference, annotations: Record<string, string> | undefined, type: string, reason: string, message: string): void => {
      this.#generate(source, obj, annotations, type, reason, message);
    };
    return {
      event: (obj, type, reason, message) => generate(obj, undefined, type, reason, message),
      eventf: (obj, type, reason, format, ...args) => generate(obj, undefined, type, reason, sprintf(format, ...args)),
      annotatedEventf: (obj, annotations, type, reason, format, ...args) => generate(obj, annotations, type, reason, sprintf(format, ...args)),
    };
  }

  /** Resolves when every queued event has been written or given up on. */
  flush(): Promise<void> {
    if (this.#writers.size === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async dispose(): Promise<void> {
    this.#abort.abort(new Error('event broadcaster shut down'));
    this.#queue = [];
    await Promise.all(this.#writers);
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  #generate(source: EventSource, obj: KubeObject | ObjectReference, annotations: Record<string, string> | undefined, type: string, reason: string, message: string): void {
    if (this.#abort.signal.aborted) return;
    const ref = referenceOf(obj);
    if (typeof ref === 'string') {
      log.error('Could not construct reference, will not report event', { err: ref, type, reason, message });
      return;
    }
    if (type !== EventType.Normal && type !== EventType.Warning) {
      log.error('Unsupported event type', { eventType: type });
      return;
    }
    const now = this.#clock.now();
    const ts = formatTime(now);
    const metadata: Event['metadata'] = {
      name: `${ref.name ?? ''}.${this.#nanosHex(now)}`,
      namespace: ref.namespace || 'default',
    };
    if (annotations) metadata.annotations = { ...annotations };
    const event: Event = {
      metadata,
      involvedObject: ref,
      reason,
      message,
      source: source.host ? { component: source.component, host: source.host } : { component: source.component },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      type,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    };
    // Upstream correlates when the sink takes the event off its queue; doing it here gives the same
    // Events (counts, aggregation, the per source+object spam filter) while events that would be
    // skipped anyway never fill the queue and push out ones that must be written.
    const result = this.#correlator.correlate(event);
    if (result.skip) return;
    if (this.#queue.length >= this.#maxQueued) {
      log.error('Unable to record event: too many queued events, dropped event', { reason, object: `${ref.namespace ?? ''}/${ref.name ?? ''}` });
      return;
    }
    this.#queue.push(result);
    if (this.#writers.size < this.#maxWriters) {
      const writer = this.#write().finally(() => {
        this.#writers.delete(writer);
        if (this.#writers.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
      });
      this.#writers.add(writer);
    }
  }

  /** Takes queued events and writes them until the queue is empty. */
  async #write(): Promise<void> {
    while (this.#queue.length > 0 && !this.#abort.signal.aborted) {
      const result = this.#queue.shift()!;
      const name = result.event.metadata.name ?? '';
      const before = this.#tails.get(name);
      const done = (before ?? Promise.resolve()).then(() => this.#recordToSink(result)).catch((err: unknown) => {
        log.error('Unable to write event', { reason: result.event.reason, err: err instanceof Error ? err.message : String(err) });
      });
      this.#tails.set(name, done);
      try {
        await done;
      } finally {
        if (this.#tails.get(name) === done) this.#tails.delete(name);
      }
    }
  }

  async #recordToSink(result: CorrelateResult): Promise<void> {
    const event = result.event;
    const signal = this.#abort.signal;
    for (let tries = 0; ;) {
      if (await this.#recordEvent(result.event, result.patch, signal)) return;
      tries++;
      if (tries >= MAX_TRIES_PER_EVENT) {
        log.error('Unable to write event (retry limit exceeded!)', { reason: event.reason, object: event.involvedObject.name });
        return;
      }
      // The first pause is random so that clients do not all retry in step after an outage.
      const delay = tries === 1 ? this.#sleepMs * Math.random() : this.#sleepMs;
      try {
        await sleep(this.#clock, delay, signal);
      } catch {
        return;
      }
    }
  }

  /** One write; true when done (written or abandoned), false to retry. */
  async #recordEvent(event: Event, patch: Record<string, unknown> | undefined, signal: AbortSignal): Promise<boolean> {
    let written: Event | undefined;
    let err: unknown;
    const update = (event.count ?? 0) > 1 && patch !== undefined;
    if (update) {
      try {
        written = await this.#sink.patch(event, patch, signal);
      } catch (e) {
        err = e;
      }
    }
    if (!update || isNotFound(err)) {
      // The Event may have been deleted (events expire after an hour): create it afresh.
      const fresh: Event = { ...event, metadata: { ...event.metadata } };
      delete fresh.metadata.resourceVersion;
      try {
        written = await this.#sink.create(fresh, signal);
        err = undefined;
      } catch (e) {
        err = e;
      }
    }
    if (err === undefined && written) {
      this.#correlator.updateState(written);
      return true;
    }
    if (signal.aborted) return true;
    if (err instanceof ApiStatusError) {
      if (isAlreadyExists(err) || hasStatusCause(err, 'NamespaceTerminating')) {
        log.debug('Server rejected event (will not retry!)', { reason: event.reason, err: err.message });
      } else {
        log.error('Server rejected event (will not retry!)', { reason: event.reason, err: err.message });
      }
      return true;
    }
    log.warn('Unable to write event (may retry after sleeping)', { reason: event.reason, err: err instanceof Error ? err.message : String(err) });
    return false;
  }

  /** "%x" of the Unix time in nanoseconds, kept strictly increasing so names never collide. */
  #nanosHex(ms: number): string {
    let n = BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.floor((ms % 1) * 1e6));
    if (n <= this.#lastNanos) n = this.#lastNanos + 1n;
    this.#lastNanos = n;
    return n.toString(16);
  }
}

/** The ObjectReference of an object (ref.GetReference), or an error text when it lacks kind, apiVersion or name. */
export function referenceOf(obj: KubeObject | ObjectReference): ObjectReference | string {
  const asObj = obj as KubeObject;
  if (asObj.metadata !== undefined) {
    const md = asObj.metadata;
    if (!asObj.kind || !asObj.apiVersion) return `object ${md.namespace ?? ''}/${md.name ?? ''} has no kind or apiVersion`;
    if (!md.name) return `${asObj.kind} has no name`;
    const ref: ObjectReference = { kind: asObj.kind };
    if (md.namespace) ref.namespace = md.namespace;
    ref.name = md.name;
    if (md.uid) ref.uid = md.uid;
    ref.apiVersion = asObj.apiVersion;
    if (md.resourceVersion) ref.resourceVersion = md.resourceVersion;
    return ref;
  }
  const r = obj as ObjectReference;
  if (!r.kind || !r.name) return 'reference has no kind or name';
  return { ...r };
}
