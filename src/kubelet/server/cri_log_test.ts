// Unit tests of the CRI log format helpers: timestamps with nanoseconds, line parsing, and where
// the last N lines of a file begin (across read blocks, with an unterminated last line).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTailLineStart, formatLogTime, parseCriLogLine, parseLogTime } from './cri_log.ts';

describe('CRI log lines', () => {
  test('timestamps keep nanoseconds and format with nine digits', () => {
    const t = parseLogTime('2024-05-06T07:08:09.12Z')!;
    assert.equal(t.ns, BigInt(Date.parse('2024-05-06T07:08:09Z')) * 1_000_000n + 120_000_000n);
    assert.equal(formatLogTime(t), '2024-05-06T07:08:09.120000000Z');
    assert.equal(formatLogTime(parseLogTime('2024-05-06T07:08:09Z')!), '2024-05-06T07:08:09.000000000Z');
    assert.equal(formatLogTime(parseLogTime('2024-05-06T09:08:09.000000001+02:00')!), '2024-05-06T09:08:09.000000001+02:00');
    assert.equal(parseLogTime('2024-05-06T09:08:09.000000001+02:00')!.ns, parseLogTime('2024-05-06T07:08:09.000000001Z')!.ns);
    assert.equal(parseLogTime('2024-05-06 07:08:09Z'), undefined);
    assert.equal(parseLogTime('2024-05-06T07:08:09.1234567891Z'), undefined);
  });

  test('full lines keep their newline, partial lines lose it, malformed lines say why', () => {
    const full = parseCriLogLine(Buffer.from('2024-01-01T00:00:00.5Z stdout F hello world\n'));
    assert.ok(typeof full !== 'string');
    assert.deepEqual([full.stream, full.log.toString()], ['stdout', 'hello world\n']);
    const partial = parseCriLogLine(Buffer.from('2024-01-01T00:00:00Z stderr P part\n'));
    assert.ok(typeof partial !== 'string');
    assert.deepEqual([partial.stream, partial.log.toString()], ['stderr', 'part']);
    const tagged = parseCriLogLine(Buffer.from('2024-01-01T00:00:00Z stdout F:x y\n'));
    assert.ok(typeof tagged !== 'string' && tagged.log.toString() === 'y\n');
    assert.equal(parseCriLogLine(Buffer.from('garbage\n')), 'timestamp is not found');
    assert.match(parseCriLogLine(Buffer.from('nottime stdout F x\n')) as string, /unexpected timestamp format/);
    assert.equal(parseCriLogLine(Buffer.from('2024-01-01T00:00:00Z stdin F x\n')), 'unexpected stream type "stdin"');
    assert.equal(parseCriLogLine(Buffer.from('2024-01-01T00:00:00Z stdout\n')), 'stream type is not found');
  });

  test('the tail of a file starts after the (n+1)-th newline from the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tkube-tail-'));
    try {
      const at = async (content: string, n: number): Promise<string> => {
        const p = join(dir, 'f');
        writeFileSync(p, content);
        const fh = await open(p, 'r');
        try {
          return content.slice(await findTailLineStart(fh, n));
        } finally {
          await fh.close();
        }
      };
      assert.equal(await at('a\nb\nc\n', 1), 'c\n');
      assert.equal(await at('a\nb\nc\n', 2), 'b\nc\n');
      assert.equal(await at('a\nb\nc\n', 5), 'a\nb\nc\n');
      assert.equal(await at('a\nb\nc\n', 0), '');
      assert.equal(await at('a\nb\nc\n', -1), 'a\nb\nc\n');
      // an unterminated last line does not count but is kept
      assert.equal(await at('a\nb\nc', 1), 'b\nc');
      // across read blocks
      const big = Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join('\n') + '\n';
      assert.equal(await at(big, 3), 'line 19997\nline 19998\nline 19999\n');
      assert.equal(await at(big, 15_000), big.slice(big.indexOf('line 5000\n')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
