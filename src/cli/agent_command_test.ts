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
      networking: { proxy: true, dns: true, ingress: true, serviceLB: true, networkPolicy: true },
    });
  });

  test('joining with a token needs a server and a way to trust it', () => {
    const hash = `sha256:${'a'.repeat(64)}`;
    const o = agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1', server: 'https://192.0.2.1:6443', token: 'abcdef.0123456789abcdef', caCertHash: hash });
    assert.equal(o.kubeconfig, join(dir, 'agent', 'kubelet.kubeconfig'));
    assert.equal(o.servingCertificateFromCsr, true);
    assert.throws(() => agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1', token: 'abcdef.0123456789abcdef', caCertHash: hash }), /--server is required/);
    assert.throws(() => agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1', server: 'https://192.0.2.1:6443', token: 'abcdef.0123456789abcdef' }), /--ca-cert-hash sha256/);
    assert.throws(() => agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1', server: 'https://192.0.2.1:6443', token: 'abcdef.0123456789abcdef', caCertHash: 'sha256:xyz' }), /--ca-cert-hash: want sha256:<64 hex digits>/);
  });

  test('--pod-manifest-path names the static pod directory', () => {
    assert.equal(agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1', kubeconfig, podManifestPath: '/etc/tkube/manifests' }).podManifestPath, '/etc/tkube/manifests');
    assert.equal(agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1', kubeconfig }).podManifestPath, undefined);
  });

  test('without a token a kubeconfig is required, and URLs are checked', () => {
    assert.throws(() => agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1' }), /give --kubeconfig, or join with --server, --token/);
    assert.throws(() => agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1', kubeconfig: join(dir, 'nope') }), /does not exist/);
    assert.throws(() => agentOptionsFromFlags({ dataDir: dir, nodeName: 'n1', kubeconfig, server: 'http://x' }), /--server: want an https:\/\/ URL/);
    rmSync(dir, { recursive: true });
  });
});
