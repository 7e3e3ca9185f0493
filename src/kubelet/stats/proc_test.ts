// procfs parsers: busy CPU time and boot time, meminfo/vmstat, interface counters and task counts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { nodeMemory, parseKeyValues, parseLoadavgTasks, parseNetDev, parseProcStat, reportedInterfaces } from './proc.ts';
import { CpuRates } from './cpu_rate.ts';

describe('procfs parsers', () => {
  test('busy CPU time leaves out idle and iowait, in nanoseconds', () => {
    const s = parseProcStat('cpu  100 5 20 1000 7 1 2 3 0 0\ncpu0 50 0 10 500 3 0 1 1 0 0\nbtime 1700000000\n');
    assert.equal(s.busyNanos, (100 + 5 + 20 + 1 + 2 + 3) * 10_000_000);
    assert.equal(s.bootTimeMs, 1_700_000_000_000);
  });

  test('meminfo values are bytes and the working set leaves out inactive file pages', () => {
    const m = parseKeyValues('MemTotal:       1000 kB\nMemFree:         200 kB\nInactive(file):  100 kB\nAnonPages:       300 kB\n');
    assert.equal(m.get('MemTotal'), 1000 * 1024);
    assert.deepEqual(nodeMemory(m), { totalBytes: 1000 * 1024, usageBytes: 800 * 1024, workingSetBytes: 700 * 1024, rssBytes: 300 * 1024 });
    assert.equal(parseKeyValues('pgfault 12\npgmajfault 3\n').get('pgmajfault'), 3);
  });

  test('interface counters, with plumbing interfaces left out and eth0 the default', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0',
      '  eth0: 1000 10 2 0 0 0 0 0 2000 20 4 0 0 0 0 0',
      'vethab12: 5 1 0 0 0 0 0 0 6 1 0 0 0 0 0 0',
    ].join('\n');
    const all = parseNetDev(text);
    assert.equal(all.length, 3);
    const r = reportedInterfaces(all);
    assert.deepEqual(r.default, { name: 'eth0', rxBytes: 1000, rxErrors: 2, txBytes: 2000, txErrors: 4 });
    assert.deepEqual(r.interfaces.map((i) => i.name), ['eth0']);
  });

  test('the task count is the denominator of /proc/loadavg', () => {
    assert.equal(parseLoadavgTasks('3.47 2.30 3.17 3/118 22603\n'), 118);
    assert.equal(parseLoadavgTasks(''), undefined);
  });
});

describe('CpuRates', () => {
  test('a rate needs two samples at least the minimum interval apart; restarts start over', () => {
    const r = new CpuRates(1000);
    assert.equal(r.observe('c', 0, 0), undefined);
    assert.equal(r.observe('c', 500, 100_000_000), undefined, 'too close: no rate yet');
    assert.equal(r.observe('c', 2000, 1_000_000_000), 500_000_000);
    assert.equal(r.observe('c', 2100, 1_100_000_000), 500_000_000, 'too close: the last rate');
    assert.equal(r.observe('c', 3000, 10), undefined, 'the counter went back');
  });

  test('keys not observed between sweeps are forgotten', () => {
    const r = new CpuRates();
    r.observe('a', 0, 0);
    r.observe('b', 0, 0);
    r.sweep();
    r.observe('a', 10, 1);
    r.sweep();
    assert.equal(r.size, 1);
  });
});
