// Watch stream decoding: events split across chunks (even inside a UTF-8 character), blank lines,
// malformed lines, and stop() ending an iteration quietly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportResponse } from './transport.ts';
import { WatchStream, parseLine } from './watch_stream.ts';

/** A response whose body yields `chunks`, then waits until cancelled when `hang` is set. */
function fakeResponse(chunks: Buffer[], hang = false): TransportResponse & { cancelled: boolean } {
  let cancel!: () => void;
  const cancelled = new Promise<void>((resolve) => { cancel = resolve; });
  const resp = {
    status: 200,
    headers: {},
    cancelled: false,
    body: (async function* () {
      for (const c of chunks) yield c;
      if (hang) {
        await cancelled;
        throw Object.assign(new Error('aborted'), { code: 'ABORT_ERR' });
      }
    })(),
    cancel: () => {
      resp.cancelled = true;
      cancel();
    },
  };
  return resp;
}

describe('WatchStream', () => {
  test('decodes events split across chunks and multi-byte characters', async () => {
    const text = '{"type":"ADDED","object":{"metadata":{"name":"caf\u00e9"}}}\n\n{"type":"DELETED","object":{"metadata":{"name":"b"}}}\n';
    const bytes = Buffer.from(text, 'utf8');
    const cut = bytes.indexOf(0xc3) + 1; // inside the two-byte é
    const w = new WatchStream<{ metadata: { name: string } }>(fakeResponse([bytes.subarray(0, 7), bytes.subarray(7, cut), bytes.subarray(cut)]));
    const got: string[] = [];
    for await (const ev of w) got.push(`${ev.type} ${(ev.object as { metadata: { name: string } }).metadata.name}`);
    assert.deepEqual(got, ['ADDED café', 'DELETED b']);
  });

  test('yields an ERROR event with its Status', async () => {
    const line = '{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}\n';
    const w = new WatchStream(fakeResponse([Buffer.from(line)]));
    const events = [];
    for await (const ev of w) events.push(ev);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'ERROR');
    assert.equal((events[0]!.object as { code: number }).code, 410);
  });

  test('stop() ends a waiting iteration without error and cancels the response', async () => {
    const resp = fakeResponse([Buffer.from('{"type":"ADDED","object":{}}\n')], true);
    const w = new WatchStream(resp);
    let count = 0;
    const done = (async () => {
      for await (const _ of w) {
        count++;
        setImmediate(() => w.stop());
      }
    })();
    await done;
    assert.equal(count, 1);
    assert.ok(resp.cancelled);
    assert.throws(() => w[Symbol.asyncIterator](), /only once/);
  });

  test('a broken stream is an error when not stopped', async () => {
    const w = new WatchStream(fakeResponse([Buffer.from('{"type":"ADDED","object":{}}\nnot json\n')]));
    await assert.rejects((async () => { for await (const _ of w) { /* drain */ } })(), /malformed event/);
  });

  test('parseLine rejects unknown types and missing objects', () => {
    assert.equal(parseLine('   '), undefined);
    assert.throws(() => parseLine('{"type":"WHAT","object":{}}'), /unknown event type/);
    assert.throws(() => parseLine('{"type":"ADDED"}'), /without type or object/);
  });
});
