// cancellableRuntime: every call carries the kubelet's signal, a call in flight ends when it is
// aborted even on a runtime that ignores signals, and nothing reaches the runtime afterwards.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cancellableRuntime } from './cancellable.ts';
import { CriError, type CallOptions, type ImageService, type RuntimeService } from './types.ts';

/** A runtime whose stopContainer never answers and whose other calls record their options. */
function fakeRuntime(seen: Array<[string, CallOptions | undefined]>): RuntimeService & ImageService {
  const record = (name: string) => (...args: unknown[]): Promise<never[]> => {
    seen.push([name, args.at(-1) as CallOptions | undefined]);
    return Promise.resolve([]);
  };
  return new Proxy({} as RuntimeService & ImageService, {
    get: (_t, name: string) => name === 'stopContainer'
      ? (id: string, grace: number, opts?: CallOptions) => { seen.push(['stopContainer', opts]); return new Promise(() => undefined); }
      : record(name),
  });
}

describe('cancellableRuntime', () => {
  test('calls carry the signal; aborting ends calls in flight and refuses new ones', async () => {
    const seen: Array<[string, CallOptions | undefined]> = [];
    const abort = new AbortController();
    const rt = cancellableRuntime(fakeRuntime(seen), abort.signal);
    assert.deepEqual(await rt.listContainers(undefined, { timeoutMs: 5 }), []);
    assert.equal(seen[0]![0], 'listContainers');
    assert.equal(seen[0]![1]?.timeoutMs, 5, 'the caller\'s options are kept');
    assert.equal(seen[0]![1]?.signal?.aborted, false);

    const stopping = rt.stopContainer('c1', 120);
    abort.abort();
    await assert.rejects(stopping, (err: unknown) => err instanceof CriError && err.code === 'Cancelled' && err.method === 'StopContainer');
    assert.equal(seen[1]![1]?.signal?.aborted, true, 'the runtime saw the abort');

    await assert.rejects(rt.removeContainer('c1'), (err: unknown) => err instanceof CriError && err.code === 'Cancelled');
    assert.equal(seen.length, 2, 'nothing reaches the runtime after the abort');
  });
});
