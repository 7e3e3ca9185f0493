// EncryptionConfiguration: decoding, upstream's validation messages, wildcard resolution and masking.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptionConfigError, loadEncryptionConfig, parseEncryptionConfig, parseGroupResource } from './config.ts';

const K32 = Buffer.alloc(32, 1).toString('base64');
const K16 = Buffer.alloc(16, 2).toString('base64');
const HEAD = 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n';
const AD = Buffer.from('/registry/x');

function prefixOf(cfg: ReturnType<typeof parseEncryptionConfig>, group: string, resource: string): string {
  const out = Buffer.from(cfg.transformerFor({ group, resource }).toStorage(Buffer.from('{}'), AD)).toString('latin1');
  return out === '{}' ? 'identity' : out.split(':').slice(0, 5).join(':');
}

describe('parseEncryptionConfig', () => {
  test('resolves resources, group wildcards and *.* in order of precedence', () => {
    const cfg = parseEncryptionConfig(`${HEAD}resources:
  - resources: [secrets, configmaps]
    providers:
      - aescbc: {keys: [{name: key1, secret: ${K32}}]}
      - identity: {}
  - resources: ["*.apps"]
    providers:
      - secretbox: {keys: [{name: sb, secret: ${K32}}]}
  - resources: ["*.*"]
    providers:
      - aesgcm: {keys: [{name: g1, secret: ${K16}}, {name: g0, secret: ${K32}}]}
`);
    assert.equal(prefixOf(cfg, '', 'secrets'), 'k8s:enc:aescbc:v1:key1');
    assert.equal(prefixOf(cfg, '', 'configmaps'), 'k8s:enc:aescbc:v1:key1');
    assert.equal(prefixOf(cfg, 'apps', 'deployments'), 'k8s:enc:secretbox:v1:sb');
    assert.equal(prefixOf(cfg, '', 'pods'), 'k8s:enc:aesgcm:v1:g1');
    assert.equal(prefixOf(cfg, 'stable.example.com', 'crontabs'), 'k8s:enc:aesgcm:v1:g1');
    assert.equal(cfg.isConfigured({ group: 'batch', resource: 'jobs' }), true);
  });

  test('unconfigured resources stay plain but refuse ciphertext', () => {
    const cfg = parseEncryptionConfig(`${HEAD}resources:\n  - resources: [secrets]\n    providers: [{identity: {}}]\n`);
    assert.equal(prefixOf(cfg, '', 'configmaps'), 'identity');
    assert.equal(cfg.isConfigured({ group: '', resource: 'configmaps' }), false);
    assert.throws(() => cfg.transformerFor({ group: '', resource: 'configmaps' }).fromStorage(Buffer.from('k8s:enc:aescbc:v1:a:b'), AD), { message: 'identity transformer tried to read encrypted data' });
  });

  test('a resource named in two entries reads with both lists, writes with the first', () => {
    const cfg = parseEncryptionConfig(`${HEAD}resources:
  - resources: [secrets]
    providers: [{aesgcm: {keys: [{name: new, secret: ${K32}}]}}]
  - resources: [secrets]
    providers: [{aescbc: {keys: [{name: old, secret: ${K32}}]}}]
`);
    const old = parseEncryptionConfig(`${HEAD}resources:\n  - resources: [secrets]\n    providers: [{aescbc: {keys: [{name: old, secret: ${K32}}]}}]\n`);
    const stored = old.transformerFor({ group: '', resource: 'secrets' }).toStorage(Buffer.from('{"a":1}'), AD);
    assert.equal(Buffer.from(cfg.transformerFor({ group: '', resource: 'secrets' }).fromStorage(stored, AD).data).toString(), '{"a":1}');
    assert.equal(prefixOf(cfg, '', 'secrets'), 'k8s:enc:aesgcm:v1:new');
  });

  test('JSON works as well as YAML', () => {
    const cfg = parseEncryptionConfig(JSON.stringify({
      apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration',
      resources: [{ resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: 'k', secret: K32 }] } }] }],
    }));
    assert.equal(prefixOf(cfg, '', 'secrets'), 'k8s:enc:secretbox:v1:k');
  });

  test('parseGroupResource follows schema.ParseGroupResource', () => {
    assert.deepEqual(parseGroupResource('secrets'), { group: '', resource: 'secrets' });
    assert.deepEqual(parseGroupResource('*.'), { group: '', resource: '*' });
    assert.deepEqual(parseGroupResource('*.*'), { group: '*', resource: '*' });
    assert.deepEqual(parseGroupResource('crontabs.stable.example.com'), { group: 'stable.example.com', resource: 'crontabs' });
  });

  const bad: Array<[string, string, string]> = [
    ['no resources', 'resources: []', 'resources: Required value: at least one resources is required'],
    ['an entry without resources or providers', 'resources: [{resources: [], providers: []}]',
      '[resources[0].resources: Required value: at least one resources[0].resources is required, resources[0].providers: Required value: at least one resources[0].providers is required]'],
    ['a short AES key', `resources: [{resources: [secrets], providers: [{aescbc: {keys: [{name: k, secret: ${Buffer.alloc(8).toString('base64')}}]}}]}]`,
      'resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 8, expected one of [16 24 32]'],
    ['a 16-byte secretbox key', `resources: [{resources: [secrets], providers: [{secretbox: {keys: [{name: k, secret: ${K16}}]}}]}]`,
      'resources[0].providers[0].secretbox.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 16, expected one of [32]'],
    ['a secret that is not base64', 'resources: [{resources: [secrets], providers: [{aesgcm: {keys: [{name: k, secret: "not base64!"}]}}]}]',
      'resources[0].providers[0].aesgcm.keys[0].secret: Invalid value: "REDACTED": secrets must be base64 encoded'],
    ['a key without name or secret', 'resources: [{resources: [secrets], providers: [{aescbc: {keys: [{}]}}]}]',
      '[resources[0].providers[0].aescbc.keys[0].name: Required value: name is a mandatory field for a key, resources[0].providers[0].aescbc.keys[0].secret: Required value: secret is a mandatory field for a key]'],
    ['a provider without keys', 'resources: [{resources: [secrets], providers: [{aescbc: {keys: []}}]}]',
      'resources[0].providers[0].aescbc.keys: Required value: at least one keys is required'],
    ['two providers in one element', `resources: [{resources: [secrets], providers: [{identity: {}, aescbc: {keys: [{name: k, secret: ${K32}}]}}]}]`,
      'more than one provider specified in a single element, should split into different list elements'],
    ['an empty provider', 'resources: [{resources: [secrets], providers: [{}]}]',
      'resources[0].providers[0]: Invalid value: {}: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity'],
    ['a bare *', 'resources: [{resources: ["*"], providers: [{identity: {}}]}]',
      `resources[0].resources[0]: Invalid value: "*": use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources`],
    ['overlapping resources', 'resources: [{resources: [secrets, "*."], providers: [{identity: {}}]}]',
      `resources[0].resources: Invalid value: []string{"secrets", "*."}: using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked`],
    ['a duplicate resource', 'resources: [{resources: [secrets, secrets], providers: [{identity: {}}]}]',
      'resources[0].resources: Invalid value: []string{"secrets", "secrets"}: the same resource cannot be specified multiple times'],
    ['capital letters', 'resources: [{resources: [Secrets], providers: [{identity: {}}]}]',
      'resources[0].resources[0]: Invalid value: "Secrets": resource name should not contain capital letters'],
    ['events.k8s.io', 'resources: [{resources: [events.events.k8s.io], providers: [{identity: {}}]}]',
      `resources[0].resources[0]: Invalid value: "events.events.k8s.io": '*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file`],
    ['the extensions group', 'resources: [{resources: [ingresses.extensions], providers: [{identity: {}}]}]',
      `resources[0].resources[0]: Invalid value: "ingresses.extensions": 'extensions' group has been removed and cannot be used for encryption`],
    ['a resource across groups', 'resources: [{resources: ["secrets.*"], providers: [{identity: {}}]}]',
      'resources[0].resources[0]: Invalid value: "secrets.*": encrypting the same resource across groups is not supported'],
    ['allocations', 'resources: [{resources: [serviceipallocations], providers: [{identity: {}}]}]',
      'resources[0].resources[0]: Invalid value: "serviceipallocations": resources which do not have REST API/s cannot be encrypted'],
    ['a resource masked by an earlier wildcard', 'resources: [{resources: ["*."], providers: [{identity: {}}]}, {resources: [secrets], providers: [{identity: {}}]}]',
      'resource "secrets" is masked by earlier rule "*."'],
    ['a group masked by *.*', 'resources: [{resources: ["*.*"], providers: [{identity: {}}]}, {resources: ["*.apps"], providers: [{identity: {}}]}]',
      'resource "*.apps" is masked by earlier rule "*.*"'],
    ['KMS', 'resources: [{resources: [secrets], providers: [{kms: {name: x, endpoint: "unix:///k.sock"}}]}]',
      'KMS providers are not supported by tkube'],
  ];
  for (const [name, body, msg] of bad) {
    test(`rejects ${name}`, () => {
      assert.throws(() => parseEncryptionConfig(`${HEAD}${body}\n`), (err: unknown) => {
        assert.ok(err instanceof EncryptionConfigError, String(err));
        if (msg.includes(': ')) assert.equal(err.message, msg);
        else assert.ok(err.message.includes(msg), err.message);
        return true;
      });
    });
  }

  test('rejects another kind', () => {
    assert.throws(() => parseEncryptionConfig('apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfig\nresources: []\n', '/etc/enc.yaml'),
      { message: 'error decoding encryption provider configuration file "/etc/enc.yaml": no kind "EncryptionConfig" is registered for version "apiserver.config.k8s.io/v1"' });
  });
});

describe('loadEncryptionConfig', () => {
  test('prefixes errors as kube-apiserver does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'enc-config-'));
    try {
      const path = join(dir, 'enc.yaml');
      await assert.rejects(loadEncryptionConfig(path), { message: new RegExp(`^error while parsing file: error while loading file: error reading encryption provider configuration file "${path}": ENOENT`) });
      await writeFile(path, '');
      await assert.rejects(loadEncryptionConfig(path), { message: `error while parsing file: error while loading file: encryption provider configuration file "${path}" is empty` });
      await writeFile(path, `${HEAD}resources: []\n`);
      await assert.rejects(loadEncryptionConfig(path), { message: 'error while parsing file: resources: Required value: at least one resources is required' });
      await writeFile(path, `${HEAD}resources: [{resources: [secrets], providers: [{aescbc: {keys: [{name: key1, secret: ${K32}}]}}]}]\n`);
      assert.equal((await loadEncryptionConfig(path)).isConfigured({ group: '', resource: 'secrets' }), true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
