// Unit tests of the container log reader and /containerLogs query decoding, on temporary files
// with a fake runtime: tail, since, timestamps, limitBytes, partial lines, follow and abort.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerStatusResponse } from '../cri/messages.ts';
import { newLogReadOptions, parseLogQuery, readLogs, type LogReadOptions } from './logs.ts';
import { KubeletError } from './types.ts';

const LOG = [
  '2024-01-01T00:00:01Z stdout F one\n',
  '2024-01-01T00:00:02.5Z stderr F two\n',
  '2024-01-01T00:00:03Z stdout P thr\n',
  '2024-01-01T00:00:03.1Z stdout F ee\n',
  'not a log line\n',
  '2024-01-01T00:00:04Z stdout F four\n',
].join('');

const ALL: LogReadOptions = { tail: -1, bytes: -1, sinceNs: 0n, follow: false, timestamps: false };

function runtime(running: () => boolean): { containerStatus(id: string): Promise<ContainerStatusResponse> } {
  return {
    async containerStatus() {
      return { info: {}, status: { state: running() ? 'CONTAINER_RUNNING' : 'CONTAINER_EXITED' } } as unknown as ContainerStatusResponse;
    },
  };
}

async function read(path: string, opts: LogReadOptions, signal = new AbortController().signal, running = (): boolean => false): Promise<string> {
  let out = '';
  await readLogs(path, 'cid', opts, runtime(running), async (d) => { out += d.toString(); }, signal);
  return out;
}

describe('readLogs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-logs-'));
  const path = join(dir, '0.log');
  writeFileSync(path, LOG);

  test('whole log: both streams, partial lines joined, unparseable lines skipped', async () => {
    assert.equal(await read(path, ALL), 'one\ntwo\nthree\nfour\n');
  });

  test('tail counts lines of the file; since, timestamps and limitBytes as upstream', async () => {
    assert.equal(await read(path, { ...ALL, tail: 1 }), 'four\n');
    assert.equal(await read(path, { ...ALL, tail: 3 }), 'ee\nfour\n', 'a partial line is a line of the file');
    assert.equal(await read(path, { ...ALL, tail: 0 }), '');
    assert.equal(await read(path, { ...ALL, sinceNs: BigInt(Date.parse('2024-01-01T00:00:02.5Z')) * 1_000_000n }), 'two\nthree\nfour\n');
    assert.equal(await read(path, { ...ALL, tail: 3, timestamps: true }), '2024-01-01T00:00:03.100000000Z ee\n2024-01-01T00:00:04.000000000Z four\n');
    assert.equal(await read(path, { ...ALL, tail: 2 }), 'four\n', 'an unparseable line still counts as a line of the file');
    assert.equal(await read(path, { ...ALL, bytes: 6 }), 'one\ntw');
    assert.equal(await read(path, { ...ALL, bytes: 4 }), 'one\n');
  });

  test('an unterminated last line is shown when not following', async () => {
    const p = join(dir, 'cut.log');
    writeFileSync(p, '2024-01-01T00:00:01Z stdout F one\n2024-01-01T00:00:02Z stdout F tw');
    assert.equal(await read(p, ALL), 'one\ntw');
  });

  test('follow reads new lines until the container stops, then drains the file', async () => {
    const p = join(dir, 'follow.log');
    writeFileSync(p, '2024-01-01T00:00:01Z stdout F one\n');
    let running = true;
    let out = '';
    const done = readLogs(p, 'cid', { ...ALL, follow: true }, runtime(() => running), async (d) => {
      out += d.toString();
      if (out === 'one\n') appendFileSync(p, '2024-01-01T00:00:02Z stdout F two\n2024-01-01T00:00:03Z stdout P hal');
      if (out.endsWith('two\n')) {
        appendFileSync(p, 'f\n'); // the record is complete only with its newline
        running = false;
        appendFileSync(p, '2024-01-01T00:00:04Z stdout F last\n');
      }
    }, new AbortController().signal);
    await done;
    // a partial (P) record carries no newline of its own: the next record continues the line
    assert.equal(out, 'one\ntwo\nhalflast\n');
  });

  test('follow ends when the request is aborted', async () => {
    const p = join(dir, 'abort.log');
    writeFileSync(p, '2024-01-01T00:00:01Z stdout F one\n');
    const ac = new AbortController();
    const t0 = Date.now();
    const done = read(p, { ...ALL, follow: true }, ac.signal, () => true);
    setTimeout(() => ac.abort(), 100);
    assert.equal(await done, 'one\n');
    assert.ok(Date.now() - t0 < 900, 'abort wakes the waiter before its periodic check');
  });

  test('a missing file is an error naming it', async () => {
    await assert.rejects(read(join(dir, 'nope.log'), ALL), /failed to open log file ".*nope\.log"/);
  });

  test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
});

describe('parseLogQuery', () => {
  const q = (s: string): URLSearchParams => new URLSearchParams(s);

  test('decodes the options and the legacy tail parameter', () => {
    assert.deepEqual(parseLogQuery(q('follow=true&timestamps=1&tailLines=5&limitBytes=10&sinceSeconds=3')), {
      follow: true, previous: false, timestamps: true, tailLines: 5, limitBytes: 10, sinceSeconds: 3, sinceTime: undefined,
    });
    assert.equal(parseLogQuery(q('tail=7')).tailLines, 7);
    assert.equal(parseLogQuery(q('tailLines=7&tail=all')).tailLines, undefined);
  });

  test('rejects what upstream rejects, with its status codes', () => {
    const code = (s: string): number => {
      try {
        parseLogQuery(q(s));
        return 200;
      } catch (err) {
        return (err as KubeletError).code;
      }
    };
    assert.equal(code('follow=yes'), 400);
    assert.equal(code('tailLines=x'), 400);
    assert.equal(code('sinceTime=yesterday'), 400);
    assert.equal(code('tailLines=-1'), 422);
    assert.equal(code('limitBytes=0'), 422);
    assert.equal(code('sinceSeconds=0'), 422);
    assert.equal(code('sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z'), 422);
  });

  test('sinceSeconds and sinceTime become one instant, the later of the two', () => {
    const now = Date.parse('2024-01-01T00:01:00Z');
    assert.equal(newLogReadOptions(parseLogQuery(q('sinceSeconds=60')), now).sinceNs, BigInt(Date.parse('2024-01-01T00:00:00Z')) * 1_000_000n);
    assert.equal(newLogReadOptions(parseLogQuery(q('sinceTime=2024-01-01T00:00:30Z')), now).sinceNs, BigInt(Date.parse('2024-01-01T00:00:30Z')) * 1_000_000n);
    assert.deepEqual(newLogReadOptions(parseLogQuery(q('')), now), { tail: -1, bytes: -1, sinceNs: 0n, follow: false, timestamps: false });
  });
});
