// The image manager hands a pod's pull-secret credentials to the runtime one at a time, pulls
// anonymously when none match or a secret is missing (with upstream's warning), and keeps pulls
// with different credentials apart.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObjectReference, Pod, Secret } from '../api/types/core_v1.ts';
import { FakeClock } from '../client/clock.ts';
import { FakeRecorder } from '../client/fake_recorder.ts';
import { Backoff } from './backoff.ts';
import type { AuthConfig, ImageSpec, PodSandboxConfig } from './cri/messages.ts';
import { CriError, GrpcCode, type ImageService } from './cri/types.ts';
import { ImageManager, type PullSecretSource } from './pull.ts';

/** An image service whose registry accepts the credentials in `accept` (undefined: anonymous pulls work). */
class FakeImages {
  readonly pulls: (AuthConfig | undefined)[] = [];
  accept: ((auth: AuthConfig | undefined) => boolean) = () => true;
  gate: Promise<void> | undefined;

  service(): ImageService {
    return {
      listImages: async () => [],
      imageStatus: async (spec: ImageSpec) => (spec.image.startsWith('sha256:') ? { image: { id: spec.image, repoTags: [], repoDigests: [], size: 42 }, info: {} } : { info: {} }),
      pullImage: async (spec: ImageSpec, auth?: AuthConfig) => {
        this.pulls.push(auth);
        if (this.gate) await this.gate;
        if (!this.accept(auth)) {
          throw new CriError('PullImage', GrpcCode.Unknown, `failed to pull and unpack image "${spec.image}": 401 Unauthorized (user ${auth?.username ?? 'anonymous'})`);
        }
        return 'sha256:abc';
      },
      removeImage: async () => undefined,
      imageFsInfo: async () => ({ imageFilesystems: [] }),
    } as unknown as ImageService;
  }
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

function pullSecret(name: string, server: string, username: string, password = 'pw'): Secret {
  return {
    metadata: { name, namespace: 'default' }, type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { [server]: { username, password, auth: b64(`${username}:${password}`) } } })) },
  };
}

function secretsOf(...list: Secret[]): PullSecretSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    secret: async (ns, name) => {
      reads.push(`${ns}/${name}`);
      return list.find((s) => s.metadata?.name === name);
    },
  };
}

function mkPod(image: string, pullSecrets: string[] = [], uid = 'u1'): Pod {
  return {
    metadata: { name: `p-${uid}`, namespace: 'default', uid },
    spec: { containers: [{ name: 'c', image, imagePullPolicy: 'Always' }], imagePullSecrets: pullSecrets.map((name) => ({ name })) },
  };
}

function refOf(pod: Pod): ObjectReference {
  return { kind: 'Pod', apiVersion: 'v1', name: pod.metadata!.name!, namespace: 'default', uid: pod.metadata!.uid!, fieldPath: 'spec.containers{c}' };
}

const sandbox = {} as PodSandboxConfig;

function setup(): { images: FakeImages; recorder: FakeRecorder; manager: ImageManager } {
  const images = new FakeImages();
  const recorder = new FakeRecorder();
  const manager = new ImageManager({ images: images.service(), recorder, backoff: new Backoff({ clock: new FakeClock() }) });
  return { images, recorder, manager };
}

async function ensure(manager: ImageManager, pod: Pod, secrets?: PullSecretSource): ReturnType<ImageManager['ensureImageExists']> {
  return manager.ensureImageExists(pod, pod.spec!.containers[0]!, refOf(pod), sandbox, secrets);
}

describe('pulling with imagePullSecrets', () => {
  test('the matching secret\'s credentials go to the runtime', async () => {
    const { images, manager } = setup();
    const secrets = secretsOf(pullSecret('reg', '127.0.0.1:5000', 'alice'), pullSecret('other', 'quay.io', 'bob'));
    const r = await ensure(manager, mkPod('127.0.0.1:5000/busybox:v1', ['other', 'reg']), secrets);
    assert.equal(r.ok, true);
    assert.deepEqual(images.pulls, [{ username: 'alice', password: 'pw' }]);
    assert.deepEqual(secrets.reads, ['default/other', 'default/reg']);
  });

  test('no matching secret, or none at all, pulls anonymously', async () => {
    const { images, manager } = setup();
    await ensure(manager, mkPod('docker.io/library/busybox:1', ['other']), secretsOf(pullSecret('other', 'quay.io', 'bob')));
    await ensure(manager, mkPod('busybox:1', [], 'u2'), secretsOf());
    assert.deepEqual(images.pulls, [undefined, undefined]);
  });

  test('each matching credential is tried in turn until one works', async () => {
    const { images, manager } = setup();
    images.accept = (a) => a?.username === 'good';
    const secrets = secretsOf(pullSecret('a', 'reg.local', 'stale'), pullSecret('b', 'reg.local/team', 'good'), pullSecret('c', 'reg.local', 'never'));
    const r = await ensure(manager, mkPod('reg.local/team/app:v1', ['a', 'b', 'c']), secrets);
    assert.equal(r.ok, true);
    // the path key is the more specific one, so it comes first
    assert.deepEqual(images.pulls.map((a) => a?.username), ['good']);
  });

  test('when every credential fails the errors are aggregated and there is no anonymous try', async () => {
    const { images, recorder, manager } = setup();
    images.accept = () => false;
    const secrets = secretsOf(pullSecret('a', 'reg.local', 'one'), pullSecret('b', 'reg.local', 'two'));
    const r = await ensure(manager, mkPod('reg.local/app:v1', ['a', 'b']), secrets);
    assert.equal(r.ok, false);
    assert.equal(images.pulls.length, 2);
    const one = 'rpc error: code = Unknown desc = failed to pull and unpack image "reg.local/app:v1": 401 Unauthorized (user one)';
    const two = one.replace('user one', 'user two');
    assert.deepEqual(r, { ok: false, reason: 'ErrImagePull', message: `[${one}, ${two}]` });
    assert.ok(recorder.events.includes(`Warning Failed Failed to pull image "reg.local/app:v1": [${one}, ${two}]`));
  });

  test('a missing secret warns on the pod and the pull goes on without it', async () => {
    const { images, recorder, manager } = setup();
    const pod = mkPod('reg.local/app:v1', ['gone', 'reg', 'also-gone']);
    const r = await ensure(manager, pod, secretsOf(pullSecret('reg', 'reg.local', 'alice')));
    assert.equal(r.ok, true);
    assert.deepEqual(images.pulls.map((a) => a?.username), ['alice']);
    const i = recorder.events.indexOf('Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (gone, also-gone); attempting to pull the image may not succeed.');
    assert.ok(i >= 0, recorder.events.join('\n'));
    assert.deepEqual(recorder.objects[i], { kind: 'Pod', apiVersion: 'v1', name: 'p-u1', namespace: 'default', uid: 'u1' });
    assert.ok(i < recorder.events.findIndex((e) => e.startsWith('Normal Pulling')));
  });

  test('a secret that cannot be read for other reasons counts as missing', async () => {
    const { images, recorder, manager } = setup();
    const failing: PullSecretSource = { secret: async () => { throw new Error('forbidden'); } };
    assert.equal((await ensure(manager, mkPod('reg.local/app:v1', ['reg']), failing)).ok, true);
    assert.deepEqual(images.pulls, [undefined]);
    assert.ok(recorder.events.some((e) => e.startsWith('Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (reg);')));
  });

  test('a malformed docker config fails the pull with its parse error', async () => {
    const { images, manager } = setup();
    const bad: Secret = { metadata: { name: 'bad' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { r: { auth: b64('x') } } })) } };
    const r = await ensure(manager, mkPod('r/app:v1', ['bad']), secretsOf(bad));
    assert.deepEqual(r, { ok: false, reason: 'ErrImagePull', message: 'unable to parse auth field, must be formatted as base64(username:password)' });
    assert.deepEqual(images.pulls, []);
  });

  test('secrets are read only when a pull is due', async () => {
    const { manager } = setup();
    const secrets = secretsOf(pullSecret('reg', 'reg.local', 'alice'));
    const pod = mkPod('sha256:abc', ['reg']);
    pod.spec!.containers[0]!.imagePullPolicy = 'IfNotPresent';
    assert.equal((await ensure(manager, pod, secrets)).ok, true);
    assert.deepEqual(secrets.reads, []);
  });

  test('concurrent pulls share one runtime pull only when their credentials are the same', async () => {
    const { images, manager } = setup();
    let open!: () => void;
    images.gate = new Promise<void>((r) => { open = r; });
    const secrets = secretsOf(pullSecret('a', 'reg.local', 'alice'), pullSecret('b', 'reg.local', 'bob'));
    const all = Promise.all([
      ensure(manager, mkPod('reg.local/app:v1', ['a'], 'p1'), secrets),
      ensure(manager, mkPod('reg.local/app:v1', ['a'], 'p2'), secrets),
      ensure(manager, mkPod('reg.local/app:v1', ['b'], 'p3'), secrets),
      ensure(manager, mkPod('reg.local/app:v1', [], 'p4'), secrets),
    ]);
    await new Promise((r) => setImmediate(r));
    open();
    const results = await all;
    assert.ok(results.every((r) => r.ok));
    assert.deepEqual(images.pulls.map((a) => a?.username ?? 'anonymous').sort(), ['alice', 'anonymous', 'bob']);
  });
});
