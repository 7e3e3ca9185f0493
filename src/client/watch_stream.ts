// One open watch: the server's chunked `{"type":…,"object":…}\n` lines decoded into events, read as
// an async iterator with the stream's own backpressure. stop() ends the iteration quietly.
import type { Disposable } from '../base/disposable.ts';
import type { Status } from '../api/types/meta_v1.ts';
import type { TransportResponse } from './transport.ts';

/** Watch event types (ERROR carries a metav1.Status). */
export const WatchEventType = {
  Added: 'ADDED',
  Modified: 'MODIFIED',
  Deleted: 'DELETED',
  Bookmark: 'BOOKMARK',
  Error: 'ERROR',
} as const;
export type WatchEventType = (typeof WatchEventType)[keyof typeof WatchEventType];

/** One decoded event. */
export type WatchEvent<T> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; readonly object: T }
  | { readonly type: 'ERROR'; readonly object: Status };

/** An open watch; iterate it once. */
export class WatchStream<T> implements AsyncIterable<WatchEvent<T>>, Disposable {
  #resp: TransportResponse;
  #stopped = false;
  #iterated = false;

  constructor(resp: TransportResponse) {
    this.#resp = resp;
  }

  /** True once stop() was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Closes the stream; a pending iteration ends without error. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#resp.cancel();
  }

  dispose(): void {
    this.stop();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    if (this.#iterated) throw new Error('WatchStream can be iterated only once');
    this.#iterated = true;
    return this.#events();
  }

  async *#events(): AsyncGenerator<WatchEvent<T>> {
    // Lines are split on the newline byte before decoding: a UTF-8 sequence never contains 0x0a, so
    // each line is decoded once, straight from its chunk, without joining and re-scanning strings.
    let carry: Buffer[] = [];
    try {
      for await (const chunk of this.#resp.body) {
        if (this.#stopped) return;
        let start = 0;
        let nl: number;
        while ((nl = chunk.indexOf(NEWLINE, start)) >= 0) {
          let line: string;
          if (carry.length > 0) {
            carry.push(chunk.subarray(start, nl));
            line = Buffer.concat(carry).toString('utf8');
            carry = [];
          } else {
            line = chunk.toString('utf8', start, nl);
          }
          start = nl + 1;
          const ev = parseLine<T>(line);
          if (ev) yield ev;
          if (this.#stopped) return;
        }
        if (start < chunk.length) carry.push(start === 0 ? chunk : chunk.subarray(start));
      }
      if (carry.length > 0) {
        const ev = parseLine<T>(Buffer.concat(carry).toString('utf8'));
        if (ev) yield ev;
      }
    } catch (err) {
      if (this.#stopped) return;
      throw err;
    } finally {
      this.#resp.cancel();
    }
  }
}

const NEWLINE = 0x0a;

/** Decodes one line; blank lines are skipped, malformed ones are an error (the stream is corrupt). */
export function parseLine<T>(line: string): WatchEvent<T> | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`watch: malformed event: ${(err as Error).message}: ${text.slice(0, 200)}`);
  }
  const ev = parsed as { type?: unknown; object?: unknown };
  if (!ev || typeof ev !== 'object' || typeof ev.type !== 'string' || typeof ev.object !== 'object' || ev.object === null) {
    throw new Error(`watch: event without type or object: ${text.slice(0, 200)}`);
  }
  switch (ev.type) {
    case 'ADDED': case 'MODIFIED': case 'DELETED': case 'BOOKMARK': case 'ERROR':
      return ev as WatchEvent<T>;
    default:
      throw new Error(`watch: unknown event type ${JSON.stringify(ev.type)}`);
  }
}
