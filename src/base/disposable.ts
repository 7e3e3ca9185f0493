// Ownership of resources (timers, watches, sockets, child processes), after VS Code's lifecycle.ts:
// whoever creates a resource registers its disposer with exactly one owner.

/** Something that releases a resource; calling dispose twice is harmless. */
export interface Disposable {
  dispose(): void | Promise<void>;
}

/** Owns a set of disposables and releases them in reverse order of registration. */
export class DisposableStore implements Disposable {
  #items: Disposable[] = [];
  #disposed = false;

  /** Registers `d` (disposing it at once if this store is already disposed) and returns it. */
  add<T extends Disposable>(d: T): T {
    if (this.#disposed) {
      void d.dispose();
    } else {
      this.#items.push(d);
    }
    return d;
  }

  /** Registers a plain function as a disposable. */
  defer(fn: () => void | Promise<void>): void {
    this.add({ dispose: fn });
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Disposes everything, newest first; errors are collected and rethrown together. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const errors: unknown[] = [];
    for (const d of this.#items.reverse()) {
      try {
        await d.dispose();
      } catch (err) {
        errors.push(err);
      }
    }
    this.#items = [];
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'several disposers failed');
  }
}

/** A disposable that clears a timer. */
export function timerDisposable(handle: NodeJS.Timeout): Disposable {
  return { dispose: () => clearTimeout(handle) };
}
