// containerd's generated config keeps every path under the data dir and follows the host's
// cgroup setup; the CNI conflist is a bridge + host-local + portmap chain on our pod CIDR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canLowerOomScoreAdj, containerdPaths, detectCgroupDriver, detectCgroupVersion, renderContainerdConfig,
} from './containerd_config.ts';
import { renderBridgeConflist, writeBridgeNetwork } from './cni.ts';

test('containerd paths live under DATA/agent', () => {
  const p = containerdPaths('/data');
  assert.equal(p.socket, '/data/agent/containerd/containerd.sock');
  assert.equal(p.root, '/data/agent/containerd/root');
  assert.equal(p.state, '/data/agent/containerd/state');
  assert.equal(p.cniConfDir, '/data/agent/cni/net.d');
});

test('the config points root, state, socket, runc state and CNI at the data dir', () => {
  const toml = renderContainerdConfig({ paths: containerdPaths('/data'), sandboxImage: 'tkube.local/pause:3.10', cgroupDriver: 'cgroupfs', restrictOomScoreAdj: false });
  for (const line of [
    'version = 2',
    'root = "/data/agent/containerd/root"',
    'state = "/data/agent/containerd/state"',
    '  address = "/data/agent/containerd/containerd.sock"',
    '  sandbox_image = "tkube.local/pause:3.10"',
    '  snapshotter = "overlayfs"',
    '  runtime_type = "io.containerd.runc.v2"',
    '  SystemdCgroup = false',
    '  Root = "/data/agent/containerd/state/runc"',
    '  bin_dir = "/usr/lib/cni"',
    '  conf_dir = "/data/agent/cni/net.d"',
    '  netns_mounts_under_state_dir = true',
    '  restrict_oom_score_adj = false',
    '  path = "/data/agent/containerd/opt"',
    '  config_path = "/data/agent/containerd/certs.d"',
  ]) {
    assert.ok(toml.split('\n').includes(line), `missing ${JSON.stringify(line)} in\n${toml}`);
  }
  assert.ok(!toml.includes('/var/lib/containerd') && !toml.includes('/run/containerd'));
  const systemd = renderContainerdConfig({ paths: containerdPaths('/d'), sandboxImage: 'p', cgroupDriver: 'systemd', runcBinary: '/usr/sbin/runc', restrictOomScoreAdj: true });
  assert.ok(systemd.includes('  SystemdCgroup = true\n'));
  assert.ok(systemd.includes('  BinaryName = "/usr/sbin/runc"\n'));
  assert.ok(systemd.includes('  restrict_oom_score_adj = true\n'));
  assert.ok(renderContainerdConfig({ paths: containerdPaths('/d "q"'), sandboxImage: 'p', cgroupDriver: 'cgroupfs' }).includes('root = "/d \\"q\\"/agent/containerd/root"'));
});

test('cgroup v2 is recognized by cgroup.controllers; systemd driver only on v2 under systemd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-cg-'));
  try {
    const v1 = join(dir, 'v1');
    const v2 = join(dir, 'v2');
    const systemd = join(dir, 'systemd');
    mkdirSync(v1);
    mkdirSync(v2);
    writeFileSync(join(v2, 'cgroup.controllers'), 'cpu memory\n');
    assert.equal(detectCgroupVersion(v1), 1);
    assert.equal(detectCgroupVersion(v2), 2);
    assert.equal(detectCgroupDriver(v1, systemd), 'cgroupfs');
    assert.equal(detectCgroupDriver(v2, systemd), 'cgroupfs');
    mkdirSync(systemd);
    assert.equal(detectCgroupDriver(v1, systemd), 'cgroupfs');
    assert.equal(detectCgroupDriver(v2, systemd), 'systemd');
    // this machine: hybrid v1 (see MACHINE-NOTES)
    assert.equal(detectCgroupVersion(), readdirSync('/sys/fs/cgroup').includes('cgroup.controllers') ? 2 : 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CAP_SYS_RESOURCE in CapEff decides whether oom_score_adj may go down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-cap-'));
  try {
    const f = join(dir, 'status');
    writeFileSync(f, 'Name:\tx\nCapEff:\t000001ffffffffff\n');
    assert.equal(canLowerOomScoreAdj(f), true);
    writeFileSync(f, 'Name:\tx\nCapEff:\t000001fffeffffff\n');
    assert.equal(canLowerOomScoreAdj(f), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bridge conflist chains bridge (host-local on the pod CIDR) and portmap', () => {
  const conf = JSON.parse(renderBridgeConflist({ podCIDR: '10.42.3.0/24' }, '/data/agent/cni/networks'));
  assert.equal(conf.cniVersion, '1.0.0');
  assert.equal(conf.name, 'tkube');
  assert.deepEqual(conf.plugins.map((p: { type: string }) => p.type), ['bridge', 'portmap']);
  const bridge = conf.plugins[0];
  assert.equal(bridge.bridge, 'tkube0');
  assert.equal(bridge.isGateway, true);
  assert.equal(bridge.ipMasq, true);
  assert.equal(bridge.hairpinMode, true);
  assert.deepEqual(bridge.ipam.ranges, [[{ subnet: '10.42.3.0/24' }]]);
  assert.equal(bridge.ipam.dataDir, '/data/agent/cni/networks');
  assert.deepEqual(conf.plugins[1].capabilities, { portMappings: true });
  assert.throws(() => renderBridgeConflist({ podCIDR: '10.42.3.0' }, '/x'), /podCIDR/);
  assert.throws(() => renderBridgeConflist({ podCIDR: '10.42.3.0/24', bridge: 'a-name-far-too-long' }, '/x'), /bridge/);
});

test('writeBridgeNetwork leaves its conflist as the only network config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-cni-'));
  try {
    const paths = containerdPaths(dir);
    mkdirSync(paths.cniConfDir, { recursive: true });
    writeFileSync(join(paths.cniConfDir, '05-old.conf'), '{}');
    const file = writeBridgeNetwork(paths, { podCIDR: '10.42.0.0/24', ipMasq: false });
    assert.deepEqual(readdirSync(paths.cniConfDir), ['10-tkube.conflist']);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).plugins[0].ipMasq, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
