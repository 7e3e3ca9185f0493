// The pull-secret keyring matches images to registry credentials as upstream's credentialprovider
// does: host and path prefixes, *. wildcards per label, ports, Docker Hub's legacy key, most specific first.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Secret } from '../api/types/core_v1.ts';
import {
  DockerKeyring, dockerConfigOfSecret, globMatch, keyringKey, makeDockerKeyring, parseDockerConfigEntries, repositoryToPull, urlsMatch,
} from './credential_keyring.ts';

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

function keyring(auths: Record<string, { username?: string; password?: string; auth?: string }>): DockerKeyring {
  const k = new DockerKeyring();
  k.add(parseDockerConfigEntries(auths));
  return k;
}

function users(k: DockerKeyring, image: string): string[] {
  return k.lookup(image).map((a) => a.username ?? '');
}

describe('keyring lookup', () => {
  test('a path key is more specific than its host and is tried first', () => {
    const k = keyring({ 'quay.io': { username: 'host' }, 'quay.io/coreos': { username: 'org' } });
    assert.deepEqual(users(k, 'quay.io/coreos/etcd'), ['org', 'host']);
    assert.deepEqual(users(k, 'quay.io/other/app'), ['host']);
    assert.deepEqual(users(k, 'gcr.io/coreos/etcd'), []);
  });

  test('schemes and the /v1/ and /v2/ API roots are dropped from keys', () => {
    assert.equal(keyringKey('https://quay.io/v2/'), 'quay.io');
    assert.equal(keyringKey('http://registry.local:5000/v1/'), 'registry.local:5000');
    assert.equal(keyringKey('https://index.docker.io/v1/'), 'index.docker.io');
    assert.equal(keyringKey('registry.example.com/team'), 'registry.example.com/team');
    assert.equal(keyringKey('https://registry.example.com/v2/team'), 'registry.example.com/team');
  });

  test('*. wildcards match exactly one label each; ports must agree', () => {
    assert.ok(urlsMatch('*.docker.io', 'prefix.docker.io/app'));
    assert.ok(!urlsMatch('*.docker.io', 'docker.io/app'));
    assert.ok(!urlsMatch('*.docker.io', 'a.b.docker.io/app'));
    assert.ok(urlsMatch('*.*.docker.io', 'a.b.docker.io/app'));
    assert.ok(urlsMatch('prefix.*.io', 'prefix.docker.io/app'));
    assert.ok(urlsMatch('*-good.example.com', 'very-good.example.com/app'));
    assert.ok(urlsMatch('registry.local:5000', 'registry.local:5000/app'));
    assert.ok(!urlsMatch('registry.local:5000', 'registry.local/app'));
    assert.ok(!urlsMatch('registry.local', 'registry.local:5000/app'));
    assert.ok(urlsMatch('127.0.0.1:5000', '127.0.0.1:5000/busybox'));
    const k = keyring({ '*.example.com': { username: 'wild' }, 'a.example.com': { username: 'exact' } });
    assert.deepEqual(users(k, 'a.example.com/app'), ['exact', 'wild']);
    assert.deepEqual(users(k, 'b.example.com/app'), ['wild']);
  });

  test('a path prefix is a string prefix, as upstream compares it', () => {
    assert.ok(urlsMatch('quay.io/coreos', 'quay.io/coreos/etcd'));
    assert.ok(urlsMatch('quay.io/coreos', 'quay.io/coreosfoo/etcd'));
    assert.ok(!urlsMatch('quay.io/coreos', 'quay.io/other/etcd'));
  });

  test('Docker Hub credentials under index.docker.io serve unqualified images', () => {
    const k = keyring({ 'https://index.docker.io/v1/': { username: 'hub' } });
    assert.deepEqual(users(k, repositoryToPull('busybox')), ['hub']);
    assert.deepEqual(users(k, repositoryToPull('library/busybox:1.36')), ['hub']);
    assert.deepEqual(users(k, repositoryToPull('docker.io/me/app')), ['hub']);
    assert.deepEqual(users(k, repositoryToPull('quay.io/me/app')), []);
    const direct = keyring({ 'docker.io': { username: 'direct' } });
    assert.deepEqual(users(direct, repositoryToPull('busybox')), ['direct']);
  });

  test('several secrets for one registry are all returned, in the order they were added', () => {
    const k = new DockerKeyring();
    k.add(parseDockerConfigEntries({ 'registry.local': { username: 'one', password: 'p1' } }));
    k.add(parseDockerConfigEntries({ 'registry.local': { username: 'two', password: 'p2' } }));
    assert.deepEqual(k.lookup('registry.local/app'), [{ username: 'one', password: 'p1' }, { username: 'two', password: 'p2' }]);
  });

  test('globs follow filepath.Match', () => {
    assert.ok(globMatch('*', 'anything'));
    assert.ok(globMatch('a?c', 'abc'));
    assert.ok(globMatch('[a-c]x', 'bx'));
    assert.ok(!globMatch('[^a-c]x', 'bx'));
    assert.ok(globMatch('\\*', '*'));
    assert.ok(!globMatch('[a-', 'a'));
    assert.ok(!globMatch('a.b', 'axb'));
  });
});

describe('docker config secrets', () => {
  test('kubectl\'s dockerconfigjson (username, password and auth) and the legacy dockercfg both parse', () => {
    const json: Secret = {
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { 'reg.local:5000': { username: 'u', password: 'p', auth: b64('u:p') } } })) },
    };
    assert.deepEqual([...dockerConfigOfSecret(json)!], [['reg.local:5000', { username: 'u', password: 'p' }]]);
    const legacy: Secret = { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'reg.local': { auth: b64('x:y:z'), email: 'a@b' } })) } };
    assert.deepEqual([...dockerConfigOfSecret(legacy)!], [['reg.local', { username: 'x', password: 'y:z', email: 'a@b' }]]);
    const tokens: Secret = { type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': JSON.stringify({ auths: { r: { identitytoken: 'idt', registrytoken: 'rt' } } }) } };
    assert.deepEqual(makeDockerKeyring([tokens]).lookup('r/app'), [{ username: '', password: '', identityToken: 'idt', registryToken: 'rt' }]);
  });

  test('secrets of other types, or without their key, add nothing', () => {
    const opaque: Secret = { type: 'Opaque', data: { '.dockerconfigjson': b64('{"auths":{"r":{"username":"u"}}}') } };
    const wrongKey: Secret = { type: 'kubernetes.io/dockercfg', data: { '.dockerconfigjson': b64('{"r":{"username":"u"}}') } };
    assert.equal(dockerConfigOfSecret(opaque), undefined);
    assert.equal(dockerConfigOfSecret(wrongKey), undefined);
    assert.deepEqual(makeDockerKeyring([opaque, wrongKey]).lookup('r/app'), []);
  });

  test('an auth field that is not base64(user:password), or bad JSON, fails', () => {
    const bad: Secret = { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { r: { auth: b64('nocolon') } } })) } };
    assert.throws(() => makeDockerKeyring([bad]), /unable to parse auth field, must be formatted as base64\(username:password\)/);
    const garbage: Secret = { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{nope') } };
    assert.throws(() => makeDockerKeyring([garbage]));
  });
});

test('images normalize to the repository they pull from', () => {
  assert.equal(repositoryToPull('busybox'), 'docker.io/library/busybox');
  assert.equal(repositoryToPull('busybox:1.36'), 'docker.io/library/busybox');
  assert.equal(repositoryToPull('me/app@sha256:abc'), 'docker.io/me/app');
  assert.equal(repositoryToPull('index.docker.io/me/app'), 'docker.io/me/app');
  assert.equal(repositoryToPull('localhost/app:v1'), 'localhost/app');
  assert.equal(repositoryToPull('127.0.0.1:5000/team/app:v1'), '127.0.0.1:5000/team/app');
  assert.equal(repositoryToPull('quay.io/org/app:tag@sha256:abc'), 'quay.io/org/app');
});
