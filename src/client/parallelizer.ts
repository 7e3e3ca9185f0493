// Bounded concurrency over a list (client-go util/workqueue parallelizer.go, ParallelizeUntil): at
// most `workers` pieces run at once, for work that mostly waits on the API. The first failure stops
// handing out further pieces; it is thrown once the pieces already started have settled.

/** Runs `fn` on every item with at most `workers` calls in flight. */
export async function parallelizeUntil<T>(workers: number, items: readonly T[], fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  let firstErr: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        if (!failed) firstErr = err;
        failed = true;
      }
    }
  };
  const n = Math.max(1, Math.min(workers, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failed) throw firstErr;
}
