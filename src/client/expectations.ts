// Controller expectations (pkg/controller/controller_utils.go): a controller records the creates and
// deletes it issued for a key and waits until informers observed them (or 5 minutes passed) before
// acting on the key again; the UID-tracking flavour counts each deleted object exactly once.
import { realClock, type Clock } from './clock.ts';

/** How long unfulfilled expectations are trusted (ExpectationsTimeout). */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

/** Outstanding adds and deletes of one key. */
export interface Expectations {
  readonly add: number;
  readonly del: number;
  /** When they were set (ms). */
  readonly timestamp: number;
}

interface Entry {
  key: string;
  add: number;
  del: number;
  timestamp: number;
}

/** Expected creations/deletions per controller key. */
export class ControllerExpectations {
  #entries = new Map<string, Entry>();
  #clock: Clock;

  constructor(clock: Clock = realClock) {
    this.#clock = clock;
  }

  /** The expectations of `key`, if any. */
  getExpectations(key: string): Expectations | undefined {
    const e = this.#entries.get(key);
    return e ? { add: e.add, del: e.del, timestamp: e.timestamp } : undefined;
  }

  /** Forgets `key` (e.g. when the controller object is deleted). */
  deleteExpectations(key: string): void {
    this.#entries.delete(key);
  }

  /**
   * True when the controller may sync `key`: no expectations recorded, all observed, or
   * recorded longer ago than the timeout.
   */
  satisfiedExpectations(key: string): boolean {
    const e = this.#entries.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.#clock.now() - e.timestamp > EXPECTATIONS_TIMEOUT_MS;
  }

  /** Replaces the expectations of `key`. */
  setExpectations(key: string, add: number, del: number): void {
    this.#entries.set(key, { key, add, del, timestamp: this.#clock.now() });
  }

  /** Expects `adds` creations for `key`. */
  expectCreations(key: string, adds: number): void {
    this.setExpectations(key, adds, 0);
  }

  /** Expects `dels` deletions for `key`. */
  expectDeletions(key: string, dels: number): void {
    this.setExpectations(key, 0, dels);
  }

  /** Increments the outstanding counts (existing entries only). */
  raiseExpectations(key: string, add: number, del: number): void {
    const e = this.#entries.get(key);
    if (!e) return;
    e.add += add;
    e.del += del;
  }

  /** Decrements the outstanding counts (existing entries only). */
  lowerExpectations(key: string, add: number, del: number): void {
    const e = this.#entries.get(key);
    if (!e) return;
    e.add -= add;
    e.del -= del;
  }

  /** An informer saw one of the creations (or a create failed and will not be seen). */
  creationObserved(key: string): void {
    this.lowerExpectations(key, 1, 0);
  }

  /** An informer saw one of the deletions (or a delete failed). */
  deletionObserved(key: string): void {
    this.lowerExpectations(key, 0, 1);
  }
}

/** ControllerExpectations that also remember which object keys are expected to disappear. */
export class UIDTrackingControllerExpectations extends ControllerExpectations {
  #uids = new Map<string, Set<string>>();

  /** Expects the deletion of exactly these object keys for controller `key`. */
  expectDeletionsOf(key: string, deletedKeys: readonly string[]): void {
    const expected = new Set(deletedKeys);
    this.#uids.set(key, expected);
    this.setExpectations(key, 0, expected.size);
  }

  /** Object `deleteKey` of controller `key` is gone: counted once, however often it is reported. */
  deletionObservedOf(key: string, deleteKey: string): void {
    const set = this.#uids.get(key);
    if (set && set.has(deleteKey)) {
      set.delete(deleteKey);
      this.deletionObserved(key);
    }
  }

  /** The object keys still expected to be deleted. */
  getUIDs(key: string): ReadonlySet<string> | undefined {
    return this.#uids.get(key);
  }

  override deleteExpectations(key: string): void {
    super.deleteExpectations(key);
    this.#uids.delete(key);
  }
}
