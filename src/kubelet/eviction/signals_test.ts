import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskUsage, fsObservations, memoryObservation, parseMeminfo } from './signals.ts';

describe('eviction signals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-signals-'));
  const meminfo = join(dir, 'meminfo');
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(meminfo, 'MemTotal:        8000000 kB\nMemFree:         1000000 kB\nMemAvailable:    6000000 kB\nHugePages_Total:       0\n');

  test('parseMeminfo reads kB fields as bytes and counts as counts', () => {
    const m = parseMeminfo('MemTotal:        8000000 kB\nHugePages_Total:       4\n');
    assert.equal(m.get('MemTotal'), 8000000 * 1024);
    assert.equal(m.get('HugePages_Total'), 4);
  });

  test('memory.available on cgroup v1 is capacity less root usage less inactive file', () => {
    const root = join(dir, 'v1');
    mkdirSync(join(root, 'memory'), { recursive: true });
    writeFileSync(join(root, 'memory', 'memory.usage_in_bytes'), `${3000 * 1024 * 1024}\n`);
    writeFileSync(join(root, 'memory', 'memory.stat'), `cache 1\ntotal_inactive_file ${1000 * 1024 * 1024}\n`);
    const o = memoryObservation(root, meminfo)!;
    assert.equal(o.capacity, 8000000 * 1024);
    assert.equal(o.available, 8000000 * 1024 - 2000 * 1024 * 1024);
  });

  test('memory.available without a v1 root falls back to meminfo and the v2 root memory.stat', () => {
    const root = join(dir, 'v2');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'memory.stat'), `anon 5\ninactive_file ${2000000 * 1024}\n`);
    // working set = total - free - inactive_file = 5000000 kB
    assert.equal(memoryObservation(root, meminfo)!.available, 3000000 * 1024);
    const bare = join(dir, 'none');
    mkdirSync(bare);
    assert.equal(memoryObservation(bare, meminfo)!.available, 6000000 * 1024);
  });

  test('diskUsage counts allocated blocks and inodes of a tree; fsObservations read statfs', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'a'), { recursive: true });
    writeFileSync(join(tree, 'a', 'f'), Buffer.alloc(64 * 1024, 1));
    const u = await diskUsage(tree);
    assert.equal(u.inodes, 3);
    assert.ok(u.bytes >= 64 * 1024, `bytes ${u.bytes}`);
    assert.deepEqual(await diskUsage(join(dir, 'missing')), { bytes: 0, inodes: 0 });
    const fs = fsObservations(dir)!;
    assert.ok(fs.bytes.capacity > 0 && fs.bytes.available <= fs.bytes.capacity);
    assert.ok(fs.inodes.capacity > 0);
  });

});
