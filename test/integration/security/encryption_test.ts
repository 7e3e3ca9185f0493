// Secrets encrypted at rest, driven by kubectl: an in-process API server over
// encryptingStore(memory store), the raw store holding only ciphertext, the API answering plain
// Secrets, and key rotation by restarting with a new first key and rewriting every Secret.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClusterPki, type ClusterPki } from '../../../src/base/pki.ts';
import { writeKubeconfig } from '../../../src/base/kubeconfig.ts';
import { ApiServer } from '../../../src/apiserver/server.ts';
import { bootstrapCluster } from '../../../src/apiserver/bootstrap.ts';
import { ORDERED_PLUGINS } from '../../../src/apiserver/admission/chain.ts';
import { parseEncryptionConfig, type EncryptionConfig } from '../../../src/apiserver/encryption/config.ts';
import { encryptingStore, rewriteAll } from '../../../src/apiserver/encryption/encrypting_store.ts';
import { openStore } from '../../../src/storage/registry.ts';
import type { Store } from '../../../src/storage/types.ts';
import '../../../src/storage/drivers/all.ts';

const KEY1 = Buffer.alloc(32, 0x11).toString('base64');
const KEY2 = Buffer.alloc(32, 0x22).toString('base64');
const PASSWORD = 'correct-horse-battery-staple';

function config(providers: string): EncryptionConfig {
  return parseEncryptionConfig(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
${providers}`);
}

/** One API server over the shared raw store, through an encrypting store with `cfg`. */
interface Running {
  readonly api: ApiServer;
  readonly store: Store;
  kubectl(args: readonly string[]): Promise<string>;
}

let dir: string;
let pki: ClusterPki;
let raw: Store;
let current: Running | undefined;

async function startApi(cfg: EncryptionConfig): Promise<Running> {
  const store = encryptingStore(raw, cfg);
  const api = new ApiServer({
    store, port: 0, bindAddress: '127.0.0.1',
    admissionPlugins: ORDERED_PLUGINS.filter((p) => p !== 'ServiceAccount'),
    tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem },
  });
  await api.start();
  await bootstrapCluster({ storeFor: (i) => api.storeFor(i), serviceCidr: '10.43.0.0/16', advertiseIP: '127.0.0.1', advertisePort: api.port });
  const kubeconfig = join(dir, `kubeconfig-${api.port}.yaml`);
  await writeKubeconfig(kubeconfig, { server: `https://127.0.0.1:${api.port}`, caPem: pki.ca.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem });
  const cacheDir = join(dir, 'kubectl-cache');
  return {
    api, store,
    kubectl: (args) => new Promise((resolve, reject) => {
      execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], {
        env: { ...process.env, HOME: dir, KUBECACHEDIR: cacheDir }, timeout: 30_000,
      }, (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve(String(stdout))));
    }),
  };
}

async function restart(cfg: EncryptionConfig): Promise<Running> {
  await current?.api.dispose();
  current = await startApi(cfg);
  return current;
}

async function rawValue(key: string): Promise<string> {
  const kv = (await raw.get(key)).kv;
  assert.ok(kv, `${key} is stored`);
  return Buffer.from(kv.value).toString('latin1');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tkube-enc-'));
  pki = await ensureClusterPki({ dir: join(dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
  raw = await openStore({ endpoint: 'memory://' });
});

after(async () => {
  await current?.api.dispose();
  await raw?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('encryption at rest (--encryption-provider-config)', () => {
  test('a Secret created with kubectl is ciphertext in the store and plain through the API', async () => {
    const s = await restart(config(`      - aescbc: {keys: [{name: key1, secret: ${KEY1}}]}\n      - identity: {}\n`));
    await s.kubectl(['create', 'secret', 'generic', 'db', '--from-literal', `password=${PASSWORD}`]);
    await s.kubectl(['create', 'configmap', 'settings', '--from-literal', 'mode=plain']);

    const stored = await rawValue('/registry/secrets/default/db');
    assert.ok(stored.startsWith('k8s:enc:aescbc:v1:key1:'), stored.slice(0, 40));
    assert.ok(!stored.includes(PASSWORD), 'the plaintext is not in the store');
    assert.ok(!stored.includes(Buffer.from(PASSWORD).toString('base64')), 'nor its base64');
    assert.match(await rawValue('/registry/configmaps/default/settings'), /^\{"kind":"ConfigMap".*"mode":"plain"/);

    const b64 = await s.kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']);
    assert.equal(Buffer.from(b64, 'base64').toString(), PASSWORD);
    const listed = JSON.parse(await s.kubectl(['get', 'secrets', '-o', 'json'])) as { items: Array<{ metadata: { name: string } }> };
    assert.deepEqual(listed.items.map((i) => i.metadata.name), ['db']);
  });

  test('keys rotate: a new first key reads old Secrets, rewriting moves them, the old key can then go', async () => {
    let s = await restart(config(`      - aescbc: {keys: [{name: key2, secret: ${KEY2}}, {name: key1, secret: ${KEY1}}]}\n      - identity: {}\n`));
    assert.equal(Buffer.from(await s.kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']), 'base64').toString(), PASSWORD);
    await s.kubectl(['create', 'secret', 'generic', 'api-token', '--from-literal', 'token=t0k3n']);
    assert.ok((await rawValue('/registry/secrets/default/api-token')).startsWith('k8s:enc:aescbc:v1:key2:'));
    assert.ok((await rawValue('/registry/secrets/default/db')).startsWith('k8s:enc:aescbc:v1:key1:'), 'untouched Secrets keep the old key');

    const before = await s.kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.metadata.resourceVersion}']);
    const result = await rewriteAll(s.store, '/registry/secrets/');
    assert.equal(result.rewritten, 2);
    for (const kv of (await raw.list('/registry/secrets/')).kvs) {
      assert.ok(Buffer.from(kv.value).toString('latin1').startsWith('k8s:enc:aescbc:v1:key2:'), kv.key);
    }
    // The rewrite is an ordinary update: the watch cache and clients see a new resourceVersion.
    const deadline = Date.now() + 10_000;
    while ((await s.kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.metadata.resourceVersion}'])) === before) {
      assert.ok(Date.now() < deadline, 'the rewrite reached the watch cache');
      await new Promise((r) => setTimeout(r, 50));
    }

    s = await restart(config(`      - aescbc: {keys: [{name: key2, secret: ${KEY2}}]}\n`));
    assert.equal(Buffer.from(await s.kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']), 'base64').toString(), PASSWORD);
    assert.equal(Buffer.from(await s.kubectl(['get', 'secret', 'api-token', '-o', 'jsonpath={.data.token}']), 'base64').toString(), 't0k3n');
  });

  test('switching providers to aesgcm and secretbox keeps the data readable and upstream-prefixed', async () => {
    let s = await restart(config(`      - aesgcm: {keys: [{name: g1, secret: ${KEY1}}]}\n      - aescbc: {keys: [{name: key2, secret: ${KEY2}}]}\n`));
    await s.kubectl(['create', 'secret', 'generic', 'gcm', '--from-literal', 'k=v-gcm']);
    assert.ok((await rawValue('/registry/secrets/default/gcm')).startsWith('k8s:enc:aesgcm:v1:g1:'));
    s = await restart(config(`      - secretbox: {keys: [{name: sb, secret: ${KEY2}}]}\n      - aesgcm: {keys: [{name: g1, secret: ${KEY1}}]}\n      - aescbc: {keys: [{name: key2, secret: ${KEY2}}]}\n`));
    await rewriteAll(s.store, '/registry/secrets/');
    for (const kv of (await raw.list('/registry/secrets/')).kvs) {
      assert.ok(Buffer.from(kv.value).toString('latin1').startsWith('k8s:enc:secretbox:v1:sb:'), kv.key);
    }
    assert.equal(Buffer.from(await s.kubectl(['get', 'secret', 'gcm', '-o', 'jsonpath={.data.k}']), 'base64').toString(), 'v-gcm');
    assert.equal(Buffer.from(await s.kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']), 'base64').toString(), PASSWORD);
  });
});
