// End to end (root): pod volumes, environment and the service-account mount on the real node —
// values read inside containers, a ConfigMap update reaching the mounted file, FailedMount, emptyDir,
// hostPath, subPath, and a local-path PVC outliving its pod and cleaned up once released.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../../src/api/types/core_v1.ts';
import { startE2ECluster, waitFor, TEST_IMAGE, type E2ECluster } from '../../src/testing/e2e_cluster.ts';

function podJson(name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { terminationGracePeriodSeconds: 1, ...spec } });
}

function box(name: string, script: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra };
}

describe('volumes, env and the service-account mount (root)', { timeout: 300_000 }, () => {
  let c: E2ECluster;
  before(async () => {
    c = await startE2ECluster({ agent: { kubelet: { volumeRefreshMs: 1000 } } });
  });
  after(async () => { await c?.stop(); });

  const cat = async (pod: string, path: string, container?: string): Promise<string> =>
    (await c.exec(pod, ['cat', path], container ? { container } : {})).stdout;

  test('env: ConfigMap and Secret keys, envFrom with a prefix and relaxed names, $(VAR) and the kubernetes service', async () => {
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'env-cfg' }, data: { LEVEL: 'debug' } }));
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'env-relaxed' }, data: { '1.level': 'relaxed' } }));
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'env-sec' }, stringData: { password: 's3cret' } }));
    await c.apply(podJson('env-pod', {
      containers: [box('c', 'sleep 3600', {
        envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'env-cfg' } }, { configMapRef: { name: 'env-relaxed' } }],
        env: [
          { name: 'GREETING', value: 'hello' },
          { name: 'MESSAGE', value: '$(GREETING) at $(CFG_LEVEL)' },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'env-sec', key: 'password' } } },
          { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'nope', key: 'x', optional: true } } },
          { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
      })],
    }));
    await c.waitRunning('env-pod');
    const env = Object.fromEntries((await c.exec('env-pod', ['env'])).stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(env['CFG_LEVEL'], 'debug');
    assert.equal(env['MESSAGE'], 'hello at debug');
    assert.equal(env['PASSWORD'], 's3cret');
    assert.equal(env['MY_POD'], 'env-pod');
    assert.equal(env['OPTIONAL'], undefined);
    assert.equal(env['KUBERNETES_SERVICE_HOST'], '10.43.0.1');
    assert.equal(env['KUBERNETES_SERVICE_PORT'], '443');
    // names need only be printable ASCII without "=" (RelaxedEnvironmentVariableValidation)
    assert.equal(env['1.level'], 'relaxed');
  });

  test('a missing key is CreateContainerConfigError', async () => {
    await c.apply(podJson('env-missing', { containers: [box('c', 'sleep 3600', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'env-cfg', key: 'nope' } } }] })] }));
    const waiting = await waitFor('CreateContainerConfigError', async () => {
      const w = (await c.getPod('env-missing')).status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    assert.equal(waiting.message, "couldn't find key nope in ConfigMap default/env-cfg");
  });

  test('configMap, secret and downwardAPI files; a ConfigMap update and a new label reach the files', async () => {
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-cfg' }, data: { 'app.conf': 'level=debug', other: 'o' } }));
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-sec' }, data: { token: Buffer.from('t0ps3cret').toString('base64') } }));
    await c.apply(podJson('files', {
      containers: [box('c', 'sleep 3600', {
        volumeMounts: [
          { name: 'config', mountPath: '/etc/app' },
          { name: 'creds', mountPath: '/etc/creds' },
          { name: 'podinfo', mountPath: '/etc/podinfo' },
        ],
      })],
      volumes: [
        { name: 'config', configMap: { name: 'app-cfg', items: [{ key: 'app.conf', path: 'conf/app.conf' }] } },
        { name: 'creds', secret: { secretName: 'app-sec', defaultMode: 0o400 } },
        { name: 'podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      ],
    }, { app: 'files', tier: 'back' }));
    await c.waitRunning('files');
    assert.equal(await cat('files', '/etc/app/conf/app.conf'), 'level=debug');
    assert.equal((await c.exec('files', ['ls', '/etc/app'])).stdout.trim(), 'conf');
    assert.equal(await cat('files', '/etc/creds/token'), 't0ps3cret');
    assert.match((await c.exec('files', ['ls', '-lL', '/etc/creds/token'])).stdout, /^-r-------- /);
    assert.equal(await cat('files', '/etc/podinfo/labels'), 'app="files"\ntier="back"');
    assert.equal(await cat('files', '/etc/podinfo/name'), 'files');
    // read-only API data
    const write = await c.exec('files', ['sh', '-c', 'echo x > /etc/app/new'], { allowFailure: true });
    assert.notEqual(write.code, 0);

    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-cfg' }, data: { 'app.conf': 'level=info', other: 'o' } }));
    await waitFor('the updated ConfigMap in the file', async () => (await cat('files', '/etc/app/conf/app.conf')) === 'level=info', 20_000);
    const r = await c.ts.kubectl(['label', 'pod', 'files', 'version=2']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('the new label in the labels file', async () => (await cat('files', '/etc/podinfo/labels')) === 'app="files"\ntier="back"\nversion="2"', 20_000);
  });

  test('a missing ConfigMap volume: FailedMount, ContainerCreating, then running once it exists', async () => {
    await c.apply(podJson('waits', { containers: [box('c', 'sleep 3600', { volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] })], volumes: [{ name: 'cfg', configMap: { name: 'late-cfg' } }] }));
    const ev = await waitFor('FailedMount', async () => (await c.events('waits')).find((e) => e.reason === 'FailedMount'));
    assert.equal(ev.message, 'MountVolume.SetUp failed for volume "cfg" : configmap "late-cfg" not found');
    const p = await waitFor('the pod reported ContainerCreating', async () => {
      const got = await c.getPod('waits');
      return got.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating' ? got : undefined;
    });
    assert.equal(p.status?.phase, 'Pending');
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late-cfg' }, data: { k: 'here' } }));
    await c.waitRunning('waits', { timeoutMs: 30_000 });
    assert.equal(await cat('waits', '/cfg/k'), 'here');
  });

  test('emptyDir shared by two containers, a memory emptyDir is a sized tmpfs, removed with the pod', async () => {
    await c.apply(podJson('shared', {
      containers: [
        box('writer', 'echo from-writer > /shared/msg; sleep 3600', { volumeMounts: [{ name: 'shared', mountPath: '/shared' }, { name: 'mem', mountPath: '/mem' }] }),
        box('reader', 'sleep 3600', { volumeMounts: [{ name: 'shared', mountPath: '/data' }] }),
      ],
      volumes: [{ name: 'shared', emptyDir: {} }, { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }],
    }));
    const pod = await c.waitRunning('shared');
    await waitFor('the writer\'s file seen by the reader', async () => (await cat('shared', '/data/msg', 'reader')).trim() === 'from-writer');
    const mounts = (await c.exec('shared', ['cat', '/proc/mounts'], { container: 'writer' })).stdout;
    assert.match(mounts, /tmpfs \/mem tmpfs [^\n]*size=16384k/);
    const uid = pod.metadata?.uid ?? '';
    const onNode = (): boolean => readFileSync('/proc/self/mountinfo', 'utf8').includes(`/pods/${uid}/volumes/`);
    assert.equal(onNode(), true);
    assert.equal((await c.ts.kubectl(['delete', 'pod', 'shared', '--wait=true'])).code, 0);
    await waitFor('the tmpfs unmounted and the pod directory gone', () => !onNode() && !existsSync(join(c.dataDir, 'agent/kubelet/pods', uid)), 30_000);
  });

  test('hostPath (DirectoryOrCreate), subPath and subPathExpr', async () => {
    const hostDir = join(c.dataDir, 'host-data');
    await c.apply(podJson('paths', {
      containers: [box('c', 'echo hi > /host/greeting; echo sub > /sub/file; echo expr > /logs/file; sleep 3600', {
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        volumeMounts: [
          { name: 'host', mountPath: '/host' },
          { name: 'host', mountPath: '/sub', subPath: 'nested/dir' },
          { name: 'host', mountPath: '/logs', subPathExpr: 'logs/$(POD_NAME)' },
        ],
      })],
      volumes: [{ name: 'host', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } }],
    }));
    await c.waitRunning('paths');
    await waitFor('the files on the node', () => existsSync(join(hostDir, 'logs/paths/file')));
    assert.equal(readFileSync(join(hostDir, 'greeting'), 'utf8'), 'hi\n');
    assert.equal(readFileSync(join(hostDir, 'nested/dir/file'), 'utf8'), 'sub\n');
    assert.equal(readFileSync(join(hostDir, 'logs/paths/file'), 'utf8'), 'expr\n');

    // a File type that is not there fails the mount with upstream's words
    mkdirSync(join(c.dataDir, 'not-a-file'), { recursive: true });
    await c.apply(podJson('bad-host', { containers: [box('c', 'sleep 3600', { volumeMounts: [{ name: 'f', mountPath: '/f' }] })], volumes: [{ name: 'f', hostPath: { path: join(c.dataDir, 'not-a-file'), type: 'File' } }] }));
    const ev = await waitFor('FailedMount', async () => (await c.events('bad-host')).find((e) => e.reason === 'FailedMount'));
    assert.equal(ev.message, `MountVolume.SetUp failed for volume "f" : hostPath type check failed: ${join(c.dataDir, 'not-a-file')} is not a file, it's a Directory`);
  });

  test('the service-account mount: token, ca.crt and namespace; the token authenticates as the account', async () => {
    await c.run('sa-pod', 'sleep 3600');
    const pod = await c.waitRunning('sa-pod');
    const vol = pod.spec?.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
    assert.ok(vol?.projected, 'the ServiceAccount admission plugin added the projected volume');
    const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
    assert.deepEqual((await c.exec('sa-pod', ['ls', dir])).stdout.trim().split('\n'), ['ca.crt', 'namespace', 'token']);
    assert.equal(await cat('sa-pod', `${dir}/namespace`), 'default');
    assert.equal(await cat('sa-pod', `${dir}/ca.crt`), c.pki.ca.certPem);
    const token = await cat('sa-pod', `${dir}/token`);
    // a kubeconfig with only the token (the harness's own carries admin certificates); the last --kubeconfig wins
    const kubeconfig = join(c.dataDir, 'sa.kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
      clusters: [{ name: 'c', cluster: { server: c.ts.url, 'certificate-authority-data': Buffer.from(c.pki.ca.certPem).toString('base64') } }],
      users: [{ name: 'sa', user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'c', user: 'sa' } }],
    }));
    const who = await c.ts.kubectl(['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, 'system:serviceaccount:default:default');

    // automountServiceAccountToken: false leaves it out
    await c.run('no-sa', 'sleep 3600', { spec: { automountServiceAccountToken: false } });
    const bare = await c.waitRunning('no-sa');
    assert.equal(bare.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-')) ?? false, false);
    assert.notEqual((await c.exec('no-sa', ['ls', dir], { allowFailure: true })).code, 0);
  });

  test('a PVC of the default local-path class outlives its pod; released, its directory and PV go', async () => {
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } } }));
    const usePvc = (name: string, script: string): string => podJson(name, { containers: [box('c', script, { volumeMounts: [{ name: 'data', mountPath: '/data' }] })], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] });
    await c.apply(usePvc('pvc-writer', 'echo persisted > /data/file; sleep 3600'));
    await c.waitRunning('pvc-writer', { timeoutMs: 60_000 });
    const claim = (await c.ts.request('GET', '/api/v1/namespaces/default/persistentvolumeclaims/data')).json<{ metadata: { uid: string; annotations: Record<string, string> }; spec: { storageClassName: string; volumeName: string }; status: { phase: string } }>();
    assert.equal(claim.spec.storageClassName, 'local-path');
    assert.equal(claim.metadata.annotations['volume.kubernetes.io/selected-node'], c.nodeName);
    assert.equal(claim.status.phase, 'Bound');
    const storage = join(c.dataDir, 'agent/storage');
    const dir = join(storage, `${claim.spec.volumeName}_default_data`);
    await waitFor('the file in the volume directory', () => existsSync(join(dir, 'file')));

    assert.equal((await c.ts.kubectl(['delete', 'pod', 'pvc-writer', '--wait=true'])).code, 0);
    await c.apply(usePvc('pvc-reader', 'sleep 3600'));
    await c.waitRunning('pvc-reader', { timeoutMs: 60_000 });
    assert.equal(await cat('pvc-reader', '/data/file'), 'persisted\n');
    assert.equal((await c.ts.kubectl(['delete', 'pod', 'pvc-reader', '--wait=true'])).code, 0);

    // No pod uses the claim any more, so pvc-protection lets the delete complete.
    assert.equal((await c.ts.kubectl(['delete', 'pvc', 'data', '--timeout=30s'])).code, 0);
    await waitFor('the volume directory removed', () => !existsSync(dir), 60_000);
    assert.deepEqual(readdirSync(storage), []);
    await waitFor('the PV deleted', async () => {
      const r = await c.ts.request('GET', `/api/v1/persistentvolumes/${claim.spec.volumeName}`);
      return r.status === 404;
    });
  });
});
