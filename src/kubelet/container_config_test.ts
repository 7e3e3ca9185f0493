import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../api/types/core_v1.ts';
import { containerConfig, containerResources, hostsFileContent, milliCPUToShares, podDirs, podHostname, podSandboxConfig, verifyRunAsNonRoot } from './container_config.ts';

function mkPod(spec: Partial<NonNullable<Pod['spec']>> = {}, status: Pod['status'] = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { a: 'b' } },
    spec: { containers: [{ name: 'web', image: 'busybox' }], ...spec },
    status,
  };
}

describe('podSandboxConfig', () => {
  test('metadata, hostname, labels, DNS, namespaces and hostPorts', () => {
    const pod = mkPod({ containers: [{ name: 'web', image: 'busybox', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] }], securityContext: { runAsUser: 1000, fsGroup: 2000, sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] } });
    const c = podSandboxConfig(pod, 2, { logDir: '/logs/x', dns: { servers: ['10.43.0.10'], searches: ['shop.svc.cluster.local'], options: ['ndots:5'] } });
    assert.deepEqual(c.metadata, { name: 'web', uid: 'u-1', namespace: 'shop', attempt: 2 });
    assert.equal(c.hostname, 'web');
    assert.equal(c.logDirectory, '/logs/x');
    assert.deepEqual(c.labels, { app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u-1' });
    assert.deepEqual(c.annotations, { a: 'b' });
    assert.deepEqual(c.portMappings, [{ protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' }]);
    assert.deepEqual(c.linux?.securityContext?.namespaceOptions, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
    assert.deepEqual(c.linux?.securityContext?.runAsUser, { value: 1000 });
    assert.deepEqual(c.linux?.securityContext?.supplementalGroups, [2000]);
    assert.deepEqual(c.linux?.sysctls, { 'net.ipv4.ip_unprivileged_port_start': '0' });
  });

  test('host network sandboxes get no hostname (containerd 1.6 refuses one) and node namespaces', () => {
    const c = podSandboxConfig(mkPod({ hostNetwork: true, hostPID: true, hostIPC: true }), 0, { logDir: '/l', dns: {} });
    assert.equal(c.hostname, '');
    assert.deepEqual(c.linux?.securityContext?.namespaceOptions, { network: 'NODE', pid: 'NODE', ipc: 'NODE' });
  });

  test('hostnames come from spec.hostname and are cut to 63 characters', () => {
    assert.equal(podHostname(mkPod({ hostname: 'h1' })), 'h1');
    const long = { ...mkPod(), metadata: { name: `${'a'.repeat(62)}-b` } };
    assert.equal(podHostname(long), 'a'.repeat(62));
  });
});

describe('hostsFileContent', () => {
  test('pod network: localhost lines, the pod\'s name (FQDN with a subdomain) and host aliases', () => {
    const text = hostsFileContent(mkPod({ subdomain: 'sub', hostAliases: [{ ip: '10.1.1.1', hostnames: ['a', 'b'] }] }), ['10.42.0.5'], { clusterDomain: 'cluster.local' });
    assert.equal(text, '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.42.0.5\tweb.sub.shop.svc.cluster.local\tweb\n\n# Entries added by HostAliases.\n10.1.1.1\ta\tb\n');
  });

  test('host network: the node\'s own hosts file under a header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tkube-hosts-'));
    try {
      writeFileSync(join(dir, 'hosts'), '127.0.0.1 localhost\n192.0.2.1 node1');
      assert.equal(hostsFileContent(mkPod({ hostNetwork: true }), [], { clusterDomain: 'cluster.local', hostHostsFile: join(dir, 'hosts') }), '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n192.0.2.1 node1\n');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('container resources and security', () => {
  test('cpu shares, CFS quota, memory limit and the OOM score by QoS class', () => {
    assert.equal(milliCPUToShares(0), 2);
    assert.equal(milliCPUToShares(250), 256);
    const guaranteed = mkPod({ containers: [{ name: 'web', resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } } }] }, { qosClass: 'Guaranteed' });
    assert.deepEqual(containerResources(guaranteed, guaranteed.spec!.containers[0]!, 4 * 1024 ** 3), { cpuShares: 512, oomScoreAdj: -997, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitInBytes: 1024 ** 3 });
    const burstable = mkPod({ containers: [{ name: 'web', resources: { requests: { memory: '1Gi' } } }] }, { qosClass: 'Burstable' });
    assert.equal(containerResources(burstable, burstable.spec!.containers[0]!, 4 * 1024 ** 3).oomScoreAdj, 750);
    const best = mkPod();
    assert.equal(containerResources(best, best.spec!.containers[0]!, 4 * 1024 ** 3).oomScoreAdj, 1000);
  });

  test('runAsNonRoot is checked against runAsUser and the image\'s user', () => {
    const pod = mkPod({ securityContext: { runAsNonRoot: true } });
    const c = pod.spec!.containers[0]!;
    assert.equal(verifyRunAsNonRoot(pod, c, {}), 'container has runAsNonRoot and image will run as root (pod: "web_shop(u-1)", container: web)');
    assert.equal(verifyRunAsNonRoot(pod, c, { uid: 1000 }), undefined);
    assert.equal(verifyRunAsNonRoot(pod, c, { username: 'app' }), 'container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: "web_shop(u-1)", container: web)');
    assert.equal(verifyRunAsNonRoot(pod, { ...c, securityContext: { runAsUser: 0 } }, { uid: 1000 }), 'container\'s runAsUser breaks non-root policy (pod: "web_shop(u-1)", container: web)');
    assert.equal(verifyRunAsNonRoot(mkPod(), c, {}), undefined);
  });

  test('the container config carries command, env, security context and a termination-log mount', () => {
    const root = mkdtempSync(join(tmpdir(), 'tkube-cc-'));
    try {
      const pod = mkPod({ securityContext: { runAsUser: 1000 } });
      const container = {
        name: 'web', image: 'busybox', command: ['sh', '-c', 'echo $(X)'], workingDir: '/w', tty: true, stdin: true,
        terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
        securityContext: { runAsGroup: 3000, privileged: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } },
      };
      const dirs = podDirs(root, pod);
      const cfg = containerConfig(pod, container, { type: 'container', restartCount: 3, imageRef: 'sha256:bb', env: [{ name: 'X', value: 'hi' }], dirs, memoryCapacity: 1 << 30, hostsFile: '/h' });
      assert.deepEqual(cfg.command, ['sh', '-c', 'echo hi']);
      assert.deepEqual(cfg.metadata, { name: 'web', attempt: 3 });
      assert.deepEqual(cfg.image, { image: 'sha256:bb', userSpecifiedImage: 'busybox' });
      assert.equal(cfg.logPath, 'web/3.log');
      assert.deepEqual(cfg.envs, [{ key: 'X', value: 'hi' }]);
      assert.equal(cfg.workingDir, '/w');
      assert.equal(cfg.tty, true);
      const sc = cfg.linux?.securityContext;
      assert.deepEqual([sc?.runAsUser, sc?.runAsGroup, sc?.readonlyRootfs, sc?.noNewPrivs, sc?.privileged], [{ value: 1000 }, { value: 3000 }, true, true, false]);
      assert.deepEqual(sc?.capabilities, { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] });
      assert.equal(cfg.annotations?.['io.kubernetes.container.restartCount'], '3');
      const term = cfg.mounts?.find((m) => m.containerPath === '/dev/termination-log');
      assert.ok(term?.hostPath?.startsWith(join(dirs.podDir, 'containers', 'web')));
      assert.equal(readFileSync(term!.hostPath!, 'utf8'), '');
      assert.deepEqual(cfg.mounts?.[0], { containerPath: '/etc/hosts', hostPath: '/h', readonly: false });
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  test('an ephemeral container with a target joins the target\'s PID namespace; shareProcessNamespace pods keep theirs', () => {
    const root = mkdtempSync(join(tmpdir(), 'tkube-cc-'));
    try {
      const dbg = { name: 'dbg', image: 'busybox' };
      const base = { type: 'ephemeral' as const, restartCount: 0, imageRef: 'sha256:bb', env: [], memoryCapacity: 1 << 30 };
      const pod = mkPod();
      const ns = containerConfig(pod, dbg, { ...base, dirs: podDirs(root, pod), targetContainerId: 'c1' }).linux?.securityContext?.namespaceOptions;
      assert.deepEqual([ns?.pid, ns?.targetId], ['TARGET', 'c1']);
      const shared = mkPod({ shareProcessNamespace: true });
      assert.equal(containerConfig(shared, dbg, { ...base, dirs: podDirs(root, shared), targetContainerId: 'c1' }).linux?.securityContext?.namespaceOptions?.pid, 'POD');
      assert.equal(containerConfig(pod, dbg, { ...base, dirs: podDirs(root, pod) }).linux?.securityContext?.namespaceOptions?.pid, 'CONTAINER');
    } finally {
      rmSync(root, { recursive: true });
    }
  });
});
