import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentOptionsFromFlags } from './agent_command.ts';

describe('tkube agent flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-agentflags-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, 'apiVersion: v1\n');

  test('flags become agent options', () => {
    const o = agentOptionsFromFlags({
      dataDir: dir, nodeName: 'n1', nodeIp: '192.0.2.5', kubeconfig, server: 'https://192.0.2.1:6443',
      nodeLabels: ['a=1,b=2'], nodeTaints: ['gpu=yes:NoSchedule'], kubeletPort: 10251,
    });
    assert.deepEqual(o, {
      dataDir: dir, nodeName: 'n1', kubeconfig, server: 'https://192.0.2.1:6443', nodeIP: '192.0.2.5',
      nodeLabels: { a: '1', b: '2' }, nodeTaints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }], kubeletPort: 10251,
    });
  });

  test('a kubeconfig is required until token bootstrap exists, and URLs are checked', () => {
    assert.throws(() => agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1' }), /--kubeconfig is required/);
    assert.throws(() => agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1', kubeconfig: join(dir, 'nope') }), /does not exist/);
    assert.throws(() => agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1', kubeconfig, server: 'http://x' }), /--server: want an https:\/\/ URL/);
    rmSync(dir, { recursive: true });
  });
});
