import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../client/clock.ts';
import { timestampPrefix, validatePayloadPath, writeAtomically } from './atomic_writer.ts';
import type { FileProjection } from './types.ts';

function payload(entries: Record<string, string>, mode = 0o644): Map<string, FileProjection> {
  return new Map(Object.entries(entries).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));
}

describe('atomic writer', () => {
  let dir: string;
  const clock = new FakeClock(Date.UTC(2024, 4, 1, 10, 20, 30));
  before(() => { dir = mkdtempSync(join(tmpdir(), 'tkube-aw-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('files are links into ..data, which links to a timestamped directory', () => {
    const target = join(dir, 'a');
    assert.equal(writeAtomically(target, payload({ 'app.conf': 'v1', 'nested/deep.txt': 'd' }), clock), true);
    assert.equal(readlinkSync(join(target, 'app.conf')), '..data/app.conf');
    assert.equal(readlinkSync(join(target, 'nested')), '..data/nested');
    assert.match(readlinkSync(join(target, '..data')), /^\.\.2024_05_01_10_20_30\./);
    assert.equal(readFileSync(join(target, 'app.conf'), 'utf8'), 'v1');
    assert.equal(readFileSync(join(target, 'nested/deep.txt'), 'utf8'), 'd');
    assert.equal(statSync(join(target, 'app.conf')).mode & 0o777, 0o644);
  });

  test('an update swaps the data under the same visible path and drops the old directory and keys', () => {
    const target = join(dir, 'b');
    writeAtomically(target, payload({ k1: 'one', k2: 'two' }), clock);
    const first = readlinkSync(join(target, '..data'));
    clock.step(1000);
    assert.equal(writeAtomically(target, payload({ k1: 'uno' }, 0o400), clock), true);
    assert.equal(readFileSync(join(target, 'k1'), 'utf8'), 'uno');
    assert.equal(statSync(join(target, 'k1')).mode & 0o777, 0o400);
    assert.notEqual(readlinkSync(join(target, '..data')), first);
    const names = readdirSync(target).sort();
    assert.deepEqual(names.filter((n) => !n.startsWith('..2')), ['..data', 'k1']);
    assert.equal(names.filter((n) => n.startsWith('..2')).length, 1);
  });

  test('the same payload writes nothing', () => {
    const target = join(dir, 'c');
    writeAtomically(target, payload({ k: 'v' }), clock);
    const link = readlinkSync(join(target, '..data'));
    assert.equal(writeAtomically(target, payload({ k: 'v' }), clock), false);
    assert.equal(readlinkSync(join(target, '..data')), link);
  });

  test('paths are checked as upstream checks them', () => {
    assert.equal(validatePayloadPath('ok/file'), undefined);
    assert.equal(validatePayloadPath('/abs'), 'invalid path: must be relative path: /abs');
    assert.equal(validatePayloadPath('a/../b'), "invalid path: must not contain '..': a/../b");
    assert.equal(validatePayloadPath('..hidden'), "invalid path: must not start with '..': ..hidden");
    assert.equal(validatePayloadPath(''), 'invalid path: must not be empty: ""');
    assert.throws(() => writeAtomically(join(dir, 'd'), payload({ '../x': 'v' }), clock), /must not contain '\.\.'/);
    assert.equal(timestampPrefix(Date.UTC(2006, 0, 2, 15, 4, 5)), '..2006_01_02_15_04_05.');
  });
});
