import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRouteInterface, goArch, machineInfo, osImage } from './machine_info.ts';

describe('machine info', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-mi-'));

  test('the OS image is PRETTY_NAME of os-release', () => {
    writeFileSync(join(dir, 'os-release'), 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n');
    assert.equal(osImage(join(dir, 'os-release')), 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(osImage(join(dir, 'missing')), 'Linux');
  });

  test('the default route\'s interface is found in /proc/net/route', () => {
    writeFileSync(join(dir, 'route'), [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
    ].join('\n'));
    assert.equal(defaultRouteInterface(join(dir, 'route')), 'eth0');
    assert.equal(defaultRouteInterface(join(dir, 'missing')), undefined);
  });

  test('architectures are spelled as Go spells them, and the machine has CPUs, memory and a filesystem', () => {
    assert.equal(goArch('x64'), 'amd64');
    assert.equal(goArch('arm64'), 'arm64');
    const m = machineInfo(dir);
    assert.ok(m.cpus >= 1 && m.memoryBytes > 0 && m.filesystemBytes > 0);
    assert.ok(m.kernelVersion.length > 0);
    rmSync(dir, { recursive: true });
  });
});
