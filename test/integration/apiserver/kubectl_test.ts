// The installed kubectl (v1.32) against an in-process tkube API server: what a user types in the
// first chapters of a textbook, and the exact text kubectl prints, errors included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

let s: TestServer;
let nsCounter = 0;

async function ok(args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function fails(args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, { input });
  assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} unexpectedly succeeded: ${r.stdout}`);
  return r.stderr;
}

async function freshNamespace(): Promise<string> {
  const ns = `t${++nsCounter}-${process.pid}`;
  await ok(['create', 'namespace', ns]);
  return ns;
}

function podYaml(name: string, labels: Record<string, string> = { app: name }, image = 'nginx:1.27'): string {
  const l = Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`).join('\n');
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  labels:\n${l}\nspec:\n  containers:\n  - name: web\n    image: ${image}\n    ports:\n    - containerPort: 80\n`;
}

before(async () => {
  s = await startTestServer();
});

after(async () => {
  await s?.stop();
});

describe('kubectl basics', () => {
  test('version reports a v1.32 server', async () => {
    const out = await ok(['version']);
    assert.match(out, /Client Version: v1\.32\.\d+/);
    assert.match(out, /Server Version: v1\.32\.4\+tkube/);
  });

  test('cluster-info names the control plane', async () => {
    const out = await ok(['cluster-info']);
    assert.match(out, new RegExp(`Kubernetes control plane.* is running at .*https://127\\.0\\.0\\.1:${s.port}`));
  });

  test('api-resources lists built-in kinds with short names', async () => {
    const out = await ok(['api-resources']);
    assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(out, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.match(out, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
  });

  test('api-versions lists served group versions', async () => {
    const out = await ok(['api-versions']);
    for (const gv of ['v1', 'apps/v1', 'batch/v1', 'autoscaling/v2', 'networking.k8s.io/v1', 'rbac.authorization.k8s.io/v1']) {
      assert.ok(out.split('\n').includes(gv), `missing ${gv} in\n${out}`);
    }
  });

  test('explain reads the OpenAPI schema', async () => {
    const out = await ok(['explain', 'pod.spec.containers']);
    assert.match(out, /KIND:\s+Pod/);
    assert.match(out, /FIELD:\s+containers <\[\]Container>/);
    assert.match(out, /image\s+<string>/);
  });

  test('the built-in namespaces exist', async () => {
    const out = await ok(['get', 'namespaces', '-o', 'name']);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(out, new RegExp(`^namespace/${ns}$`, 'm'));
  });

  test('the kubernetes service has the first service IP', async () => {
    const out = await ok(['get', 'svc', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.equal(out, '10.43.0.1');
  });
});

describe('creating and reading objects', () => {
  test('create -f, get with every output format', async () => {
    const ns = await freshNamespace();
    const out = await ok(['create', '-n', ns, '-f', '-'], podYaml('web'));
    assert.equal(out.trim(), 'pod/web created');
    const table = await ok(['get', 'pods', '-n', ns]);
    assert.match(table, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    assert.match(table, /^web\s+0\/1\s+Pending\s+0\s+\d+s$/m);
    const wide = await ok(['get', 'pods', '-n', ns, '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
    const json = JSON.parse(await ok(['get', 'pod', 'web', '-n', ns, '-o', 'json'])) as Record<string, any>;
    assert.equal(json.kind, 'Pod');
    assert.equal(json.spec.restartPolicy, 'Always');
    assert.equal(json.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(json.spec.schedulerName, 'default-scheduler');
    assert.equal(json.spec.terminationGracePeriodSeconds, 30);
    assert.equal(json.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(json.spec.containers[0].ports[0].protocol, 'TCP');
    assert.equal(json.status.phase, 'Pending');
    assert.equal(json.status.qosClass, 'BestEffort');
    assert.match(json.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(json.metadata.resourceVersion, /^\d+$/);
    const yaml = await ok(['get', 'pod', 'web', '-n', ns, '-o', 'yaml']);
    assert.match(yaml, /^kind: Pod$/m);
    assert.match(yaml, /^  name: web$/m);
    assert.equal((await ok(['get', 'pod', '-n', ns, '-o', 'name'])).trim(), 'pod/web');
    assert.equal(await ok(['get', 'pod', 'web', '-n', ns, '-o', 'jsonpath={.spec.containers[0].image}']), 'nginx:1.27');
    const cc = await ok(['get', 'pods', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image']);
    assert.match(cc, /^NAME\s+IMAGE\nweb\s+nginx:1\.27$/m);
  });

  test('labels: --show-labels, -L, set-based -l, field selectors', async () => {
    const ns = await freshNamespace();
    await ok(['create', '-n', ns, '-f', '-'], podYaml('a', { app: 'web', tier: 'front' }));
    await ok(['create', '-n', ns, '-f', '-'], podYaml('b', { app: 'db', tier: 'back' }));
    await ok(['create', '-n', ns, '-f', '-'], podYaml('c', { app: 'cache' }));
    const shown = await ok(['get', 'pods', '-n', ns, '--show-labels']);
    assert.match(shown, /^a\s+.*app=web,tier=front$/m);
    const cols = await ok(['get', 'pods', '-n', ns, '-L', 'tier']);
    assert.match(cols, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+TIER$/m);
    assert.match(cols, /^b\s+.*back$/m);
    const names = (args: string[]) => ok(['get', 'pods', '-n', ns, '-o', 'name', ...args]).then((o) => o.trim().split('\n').filter(Boolean).sort());
    assert.deepEqual(await names(['-l', 'app in (web,db)']), ['pod/a', 'pod/b']);
    assert.deepEqual(await names(['-l', 'app notin (web,db)']), ['pod/c']);
    assert.deepEqual(await names(['-l', '!tier']), ['pod/c']);
    assert.deepEqual(await names(['-l', 'tier,app!=db']), ['pod/a']);
    assert.deepEqual(await names(['--field-selector', 'metadata.name=b']), ['pod/b']);
    assert.deepEqual(await names(['--field-selector', 'status.phase=Pending,metadata.name!=b']), ['pod/a', 'pod/c']);
    const err = await fails(['get', 'pods', '-n', ns, '--field-selector', 'spec.foo=bar']);
    assert.match(err, /field label not supported: spec\.foo/);
  });

  test('apply creates, then updates in place', async () => {
    const ns = await freshNamespace();
    assert.equal((await ok(['apply', '-n', ns, '-f', '-'], podYaml('web'))).trim(), 'pod/web created');
    assert.equal((await ok(['apply', '-n', ns, '-f', '-'], podYaml('web'))).trim(), 'pod/web unchanged');
    assert.equal((await ok(['apply', '-n', ns, '-f', '-'], podYaml('web', { app: 'web', v: '2' }))).trim(), 'pod/web configured');
    assert.equal(await ok(['get', 'pod', 'web', '-n', ns, '-o', 'jsonpath={.metadata.labels.v}']), '2');
  });

  test('describe shows the object and its events section', async () => {
    const ns = await freshNamespace();
    await ok(['create', '-n', ns, '-f', '-'], podYaml('web'));
    const out = await ok(['describe', 'pod', 'web', '-n', ns]);
    assert.match(out, /^Name:\s+web$/m);
    assert.match(out, new RegExp(`^Namespace:\\s+${ns}$`, 'm'));
    assert.match(out, /^Status:\s+Pending$/m);
    assert.match(out, /^Events:\s+<none>$/m);
  });

  test('label, annotate, and edit with a scripted EDITOR', async () => {
    const ns = await freshNamespace();
    await ok(['create', '-n', ns, '-f', '-'], podYaml('web'));
    assert.equal((await ok(['label', 'pod', 'web', '-n', ns, 'env=prod'])).trim(), 'pod/web labeled');
    assert.equal((await ok(['annotate', 'pod', 'web', '-n', ns, 'note=hello'])).trim(), 'pod/web annotated');
    assert.equal(await ok(['get', 'pod', 'web', '-n', ns, '-o', 'jsonpath={.metadata.labels.env}/{.metadata.annotations.note}']), 'prod/hello');
    const overwrite = await fails(['label', 'pod', 'web', '-n', ns, 'env=dev']);
    assert.match(overwrite, /'env' already has a value \(prod\), and --overwrite is false/);
    await ok(['label', 'pod', 'web', '-n', ns, 'env-']);
    assert.equal(await ok(['get', 'pod', 'web', '-n', ns, '-o', 'jsonpath={.metadata.labels.env}']), '');
    const editor = join(s.dir, 'editor.sh');
    await writeFile(editor, '#!/bin/sh\nsed -i "s/note: hello/note: edited/" "$1"\n');
    await chmod(editor, 0o755);
    const r = await s.kubectl(['edit', 'pod', 'web', '-n', ns], { env: { KUBE_EDITOR: editor, EDITOR: editor } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'pod/web edited');
    assert.equal(await ok(['get', 'pod', 'web', '-n', ns, '-o', 'jsonpath={.metadata.annotations.note}']), 'edited');
  });

  test('delete by name, by label, and --all', async () => {
    const ns = await freshNamespace();
    for (const n of ['a', 'b', 'c', 'd']) await ok(['create', '-n', ns, '-f', '-'], podYaml(n, { app: n === 'a' || n === 'b' ? 'x' : 'y' }));
    assert.equal((await ok(['delete', 'pod', 'c', '-n', ns])).trim(), 'pod "c" deleted');
    assert.equal((await ok(['delete', 'pods', '-n', ns, '-l', 'app=x'])).trim().split('\n').sort().join('\n'), 'pod "a" deleted\npod "b" deleted');
    assert.equal((await ok(['delete', 'pods', '-n', ns, '--all'])).trim(), 'pod "d" deleted');
    const r = await s.kubectl(['get', 'pods', '-n', ns]);
    assert.equal(r.stderr.trim(), `No resources found in ${ns} namespace.`);
  });

  test('--dry-run=server validates without persisting', async () => {
    const ns = await freshNamespace();
    assert.equal((await ok(['create', '-n', ns, '--dry-run=server', '-f', '-'], podYaml('ghost'))).trim(), 'pod/ghost created (server dry run)');
    const err = await fails(['get', 'pod', 'ghost', '-n', ns]);
    assert.match(err, /Error from server \(NotFound\): pods "ghost" not found/);
  });

  test('get -w sees an update', async () => {
    const ns = await freshNamespace();
    await ok(['create', '-n', ns, '-f', '-'], podYaml('web'));
    const child = spawn('kubectl', ['--kubeconfig', s.kubeconfig, '--cache-dir', join(s.dir, 'kubectl-cache'), 'get', 'pods', '-n', ns, '-w', '-o', 'custom-columns=NAME:.metadata.name,V:.metadata.labels.v', '--no-headers'], { env: { ...process.env, HOME: s.dir } });
    let out = '';
    const seen = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`watch saw no update; output so far:\n${out}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^web\s+2$/m.test(out)) { clearTimeout(t); resolve(); }
      });
    });
    // The first line is the initial state; then label the pod and wait for the update line.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await ok(['label', 'pod', 'web', '-n', ns, 'v=2']);
    try {
      await seen;
    } finally {
      child.kill('SIGTERM');
    }
    assert.match(out, /^web\s+<none>$/m);
  });
});

describe('typed create commands (protobuf bodies)', () => {
  test('create deployment, configmap, secret, serviceaccount, job, service', async () => {
    const ns = await freshNamespace();
    assert.equal((await ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '-n', ns])).trim(), 'deployment.apps/web created');
    const d = JSON.parse(await ok(['get', 'deployment', 'web', '-n', ns, '-o', 'json'])) as Record<string, any>;
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.27');
    assert.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } });
    assert.equal(d.spec.strategy.type, 'RollingUpdate');
    assert.equal(d.spec.strategy.rollingUpdate.maxSurge, '25%');
    assert.equal(d.spec.revisionHistoryLimit, 10);
    assert.equal(d.spec.progressDeadlineSeconds, 600);
    assert.equal(d.metadata.generation, 1);
    assert.equal((await ok(['create', 'configmap', 'cfg', '--from-literal=a=b', '-n', ns])).trim(), 'configmap/cfg created');
    assert.equal(await ok(['get', 'cm', 'cfg', '-n', ns, '-o', 'jsonpath={.data.a}']), 'b');
    assert.equal((await ok(['create', 'secret', 'generic', 'sec', '--from-literal=k=v', '-n', ns])).trim(), 'secret/sec created');
    assert.equal(await ok(['get', 'secret', 'sec', '-n', ns, '-o', 'jsonpath={.data.k}']), Buffer.from('v').toString('base64'));
    assert.equal(await ok(['get', 'secret', 'sec', '-n', ns, '-o', 'jsonpath={.type}']), 'Opaque');
    assert.equal((await ok(['create', 'serviceaccount', 'robot', '-n', ns])).trim(), 'serviceaccount/robot created');
    assert.equal((await ok(['create', 'job', 'once', '--image=busybox', '-n', ns, '--', 'echo', 'hi'])).trim(), 'job.batch/once created');
    assert.equal(await ok(['get', 'job', 'once', '-n', ns, '-o', 'jsonpath={.spec.template.spec.restartPolicy}']), 'Never');
    assert.equal((await ok(['create', 'service', 'nodeport', 'web', '--tcp=80:8080', '-n', ns])).trim(), 'service/web created');
    const svc = JSON.parse(await ok(['get', 'svc', 'web', '-n', ns, '-o', 'json'])) as Record<string, any>;
    assert.match(svc.spec.clusterIP, /^10\.43\.\d+\.\d+$/);
    assert.ok(svc.spec.ports[0].nodePort >= 30000 && svc.spec.ports[0].nodePort <= 32767);
    const table = await ok(['get', 'svc', 'web', '-n', ns]);
    assert.match(table, new RegExp(`^web\\s+NodePort\\s+${svc.spec.clusterIP.replace(/\./g, '\\.')}\\s+<none>\\s+80:${svc.spec.ports[0].nodePort}/TCP\\s+\\d+s$`, 'm'));
  });

  test('scale through the scale subresource', async () => {
    const ns = await freshNamespace();
    await ok(['create', 'deployment', 'web', '--image=nginx', '-n', ns]);
    assert.equal((await ok(['scale', 'deployment', 'web', '--replicas=4', '-n', ns])).trim(), 'deployment.apps/web scaled');
    assert.equal(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas} {.metadata.generation}']), '4 2');
  });

  test('auth whoami and can-i', async () => {
    const who = await ok(['auth', 'whoami']);
    assert.match(who, /^Username\s+system:admin$/m);
    assert.match(who, /^Groups\s+\[system:masters system:authenticated\]$/m);
    assert.equal((await ok(['auth', 'can-i', 'create', 'pods'])).trim(), 'yes');
  });

  test('get all lists the workload kinds', async () => {
    const ns = await freshNamespace();
    await ok(['create', 'deployment', 'web', '--image=nginx', '-n', ns]);
    await ok(['create', 'service', 'clusterip', 'web', '--tcp=80:80', '-n', ns]);
    const out = await ok(['get', 'all', '-n', ns]);
    assert.match(out, /^service\/web\s+ClusterIP/m);
    assert.match(out, /^deployment\.apps\/web\s+0\/1\s+0\s+0\s+\d+s$/m);
  });
});

describe('errors kubectl prints', () => {
  test('not found', async () => {
    const err = await fails(['get', 'pod', 'nope', '-n', 'default']);
    assert.equal(err.trim(), 'Error from server (NotFound): pods "nope" not found');
  });

  test('already exists', async () => {
    const ns = await freshNamespace();
    await ok(['create', '-n', ns, '-f', '-'], podYaml('web'));
    const err = await fails(['create', '-n', ns, '-f', '-'], podYaml('web'));
    assert.match(err, /Error from server \(AlreadyExists\): error when creating "STDIN": pods "web" already exists/);
  });

  test('conflict on a stale resourceVersion', async () => {
    const ns = await freshNamespace();
    await ok(['create', '-n', ns, '-f', '-'], podYaml('web'));
    const current = JSON.parse(await ok(['get', 'pod', 'web', '-n', ns, '-o', 'json'])) as Record<string, any>;
    await ok(['label', 'pod', 'web', '-n', ns, 'bump=1']);
    current.metadata.labels.stale = 'yes';
    const err = await fails(['replace', '-f', '-'], JSON.stringify(current));
    assert.match(err, /Error from server \(Conflict\): error when replacing "STDIN": Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again/);
  });

  test('invalid object', async () => {
    const ns = await freshNamespace();
    const err = await fails(['create', '-n', ns, '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n');
    assert.match(err, /The ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/);
  });

  test('invalid pod and deployment fields, as upstream words them', async () => {
    const ns = await freshNamespace();
    const pod = await fails(['create', '-n', ns, '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  restartPolicy: Sometimes\n  containers:\n  - name: web\n');
    assert.match(pod, /The Pod "p" is invalid: \n\* spec\.containers\[0\]\.image: Required value\n\* spec\.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"/);
    const dep = await fails(['create', '-n', ns, '-f', '-'], 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector:\n    matchLabels:\n      app: a\n  template:\n    metadata:\n      labels:\n        app: b\n    spec:\n      containers:\n      - name: c\n        image: nginx\n');
    assert.match(dep, /The Deployment "d" is invalid: spec\.template\.metadata\.labels: Invalid value: map\[string\]string\{"app":"b"\}: `selector` does not match template `labels`/);
    await ok(['create', '-n', ns, '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n');
    const ip = await ok(['get', 'svc', 's', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}']);
    const patch = await fails(['patch', 'svc', 's', '-n', ns, '-p', '{"spec":{"clusterIP":"10.43.9.9","clusterIPs":["10.43.9.9"]}}']);
    assert.match(patch, new RegExp(`spec\\.clusterIPs\\[0\\]: Invalid value: \\[\\]string\\{"10\\.43\\.9\\.9"\\}: may not change once set`));
    assert.equal(await ok(['get', 'svc', 's', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}']), ip);
  });

  test('unknown resource type', async () => {
    const err = await fails(['get', 'frobnicators']);
    assert.match(err, /the server doesn't have a resource type "frobnicators"/);
  });
});
