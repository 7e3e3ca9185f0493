// Patch and apply through the real kubectl: client-side apply cycles (removing fields, list items,
// changing ports), server-side apply with managedFields, conflicts and forcing, diff, patch types,
// and `kubectl set`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

let s: TestServer;
let n = 0;

before(async () => {
  s = await startTestServer();
});

after(async () => {
  await s?.stop();
});

async function ok(args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function ns(): Promise<string> {
  const name = `ap${++n}`;
  await ok(['create', 'namespace', name]);
  return name;
}

function deployment(opts: { replicas?: number; image?: string; containers?: string[]; port?: number; env?: boolean } = {}): string {
  const containers = (opts.containers ?? ['web']).map((c, i) => `      - name: ${c}\n        image: ${i === 0 ? (opts.image ?? 'nginx:1.26') : 'busybox'}\n` +
    (i === 0 ? `        ports:\n        - containerPort: ${opts.port ?? 80}\n` : '') +
    (i === 0 && opts.env ? '        env:\n        - name: MODE\n          value: fast\n' : '')).join('');
  return `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n${opts.replicas !== undefined ? `  replicas: ${opts.replicas}\n` : ''}  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n${containers}`;
}

type J = Record<string, any>;
const get = async (namespace: string, what: string[]): Promise<J> => JSON.parse(await ok(['get', ...what, '-n', namespace, '-o', 'json'])) as J;

describe('client-side apply', () => {
  test('apply, re-apply, remove a field, remove a container, change a port', async () => {
    const n1 = await ns();
    assert.equal((await ok(['apply', '-n', n1, '-f', '-'], deployment({ replicas: 2, containers: ['web', 'sidecar'], env: true }))).trim(), 'deployment.apps/web created');
    let d = await get(n1, ['deploy', 'web']);
    assert.equal(d.spec.replicas, 2);
    assert.ok(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    assert.equal((await ok(['apply', '-n', n1, '-f', '-'], deployment({ replicas: 2, containers: ['web', 'sidecar'], env: true }))).trim(), 'deployment.apps/web unchanged');
    // Dropping replicas from the manifest removes it from the object (and defaulting brings back 1).
    await ok(['apply', '-n', n1, '-f', '-'], deployment({ containers: ['web', 'sidecar'] }));
    d = await get(n1, ['deploy', 'web']);
    assert.equal(d.spec.replicas, 1);
    assert.equal(d.spec.template.spec.containers[0].env, undefined, 'env removed');
    await ok(['apply', '-n', n1, '-f', '-'], deployment({ containers: ['web'], port: 8080 }));
    d = await get(n1, ['deploy', 'web']);
    assert.deepEqual(d.spec.template.spec.containers.map((c: J) => c.name), ['web']);
    assert.deepEqual(d.spec.template.spec.containers[0].ports.map((p: J) => p.containerPort), [8080]);
    assert.equal(d.metadata.generation, 3, 'two spec changes after the create');
  });

  test('a Service patched with only port 8080 keeps both ports (strategic merge by port)', async () => {
    const n2 = await ns();
    await ok(['create', '-n', n2, '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  selector:\n    app: x\n  ports:\n  - name: http\n    port: 80\n');
    await ok(['patch', 'svc', 'svc', '-n', n2, '-p', '{"spec":{"ports":[{"name":"alt","port":8080}]}}']);
    const svc = await get(n2, ['svc', 'svc']);
    assert.deepEqual(svc.spec.ports.map((p: J) => p.port).sort(), [80, 8080]);
  });

  test('apply --prune removes objects no longer in the manifest', async () => {
    const n3 = await ns();
    const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  labels:\n    set: demo\ndata:\n  a: b\n`;
    await ok(['apply', '-n', n3, '-l', 'set=demo', '--prune', '-f', '-'], `${cm('one')}---\n${cm('two')}`);
    const out = await ok(['apply', '-n', n3, '-l', 'set=demo', '--prune', '-f', '-'], cm('one'));
    assert.match(out, /configmap\/two pruned/);
    const left = await ok(['get', 'cm', '-n', n3, '-l', 'set=demo', '-o', 'name']);
    assert.equal(left.trim(), 'configmap/one');
  });
});

describe('server-side apply', () => {
  test('creates with managedFields, conflicts with another manager, forces', async () => {
    const n4 = await ns();
    assert.equal((await ok(['apply', '--server-side', '-n', n4, '-f', '-'], deployment({ replicas: 3 }))).trim(), 'deployment.apps/web serverside-applied');
    const d = JSON.parse(await ok(['get', 'deploy', 'web', '-n', n4, '-o', 'json', '--show-managed-fields'])) as J;
    const mine = d.metadata.managedFields.find((m: J) => m.manager === 'kubectl');
    assert.equal(mine.operation, 'Apply');
    assert.equal(mine.fieldsType, 'FieldsV1');
    assert.ok(mine.fieldsV1['f:spec']['f:replicas'], 'kubectl owns spec.replicas');
    // Another applier wants a different replica count.
    const conflict = await s.kubectl(['apply', '--server-side', '--field-manager=other', '-n', n4, '-f', '-'], { input: deployment({ replicas: 5 }) });
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
    await ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-n', n4, '-f', '-'], deployment({ replicas: 5 }));
    const after = JSON.parse(await ok(['get', 'deploy', 'web', '-n', n4, '-o', 'json', '--show-managed-fields'])) as J;
    assert.equal(after.spec.replicas, 5);
    const other = after.metadata.managedFields.find((m: J) => m.manager === 'other');
    assert.ok(other.fieldsV1['f:spec']['f:replicas']);
    const kubectlEntry = after.metadata.managedFields.find((m: J) => m.manager === 'kubectl');
    assert.equal(kubectlEntry.fieldsV1['f:spec']['f:replicas'], undefined, 'ownership moved');
  });

  test('a server-side apply to /status records its manager with subresource status', async () => {
    const n6 = await ns();
    await ok(['apply', '--server-side', '-n', n6, '-f', '-'], deployment({ replicas: 1 }));
    const status = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nstatus:\n  observedGeneration: 7\n';
    await ok(['apply', '--server-side', '--subresource=status', '--field-manager=reporter', '-n', n6, '-f', '-'], status);
    const d = JSON.parse(await ok(['get', 'deploy', 'web', '-n', n6, '-o', 'json', '--show-managed-fields'])) as J;
    assert.equal(d.status.observedGeneration, 7);
    const entry = d.metadata.managedFields.find((m: J) => m.manager === 'reporter');
    assert.ok(entry, JSON.stringify(d.metadata.managedFields));
    assert.equal(entry.operation, 'Apply');
    assert.equal(entry.subresource, 'status');
    assert.ok(entry.fieldsV1['f:status']['f:observedGeneration']);
    assert.ok(d.metadata.managedFields.some((m: J) => m.manager === 'kubectl' && m.fieldsV1['f:spec']), 'the spec applier keeps its entry');
  });

  test('an Update manager (kubectl scale) conflicts with an applier', async () => {
    const n5 = await ns();
    await ok(['apply', '--server-side', '-n', n5, '-f', '-'], deployment({ replicas: 2 }));
    await ok(['scale', 'deploy', 'web', '-n', n5, '--replicas=4']);
    const c = await s.kubectl(['apply', '--server-side', '-n', n5, '-f', '-'], { input: deployment({ replicas: 2 }) });
    // kubectl scale sends no fieldManager: the manager is the User-Agent's product, on the scale subresource.
    assert.match(c.stderr, /Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas/);
  });

  test('missing fieldManager is a 422; managedFields hidden by default', async () => {
    const r = await s.request('PATCH', '/api/v1/namespaces/default/configmaps/ssa', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa' } }), headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    assert.equal(r.status, 422);
    assert.match(r.body, /fieldManager: Required value: is required for apply patch/);
    await ok(['create', 'configmap', 'plain', '--from-literal=a=b']);
    assert.doesNotMatch(await ok(['get', 'cm', 'plain', '-o', 'yaml']), /managedFields/);
    assert.match(await ok(['get', 'cm', 'plain', '-o', 'yaml', '--show-managed-fields']), /manager: kubectl-create/);
  });
});

describe('diff, patch, set', () => {
  test('kubectl diff shows changes without persisting them', async () => {
    const n6 = await ns();
    await ok(['apply', '-n', n6, '-f', '-'], deployment({ replicas: 2 }));
    const before = (await get(n6, ['deploy', 'web'])).metadata.resourceVersion;
    const r = await s.kubectl(['diff', '-n', n6, '-f', '-'], { input: deployment({ replicas: 3 }) });
    assert.equal(r.code, 1, `diff exit code 1 means differences: ${r.stderr}`);
    assert.match(r.stdout, /^-  replicas: 2$/m);
    assert.match(r.stdout, /^\+  replicas: 3$/m);
    // A spec change bumps generation in the dry-run result too (as upstream); resourceVersion stays.
    assert.doesNotMatch(r.stdout, /resourceVersion/);
    assert.equal((await get(n6, ['deploy', 'web'])).metadata.resourceVersion, before);
    const same = await s.kubectl(['diff', '-n', n6, '-f', '-'], { input: deployment({ replicas: 2 }) });
    assert.equal(same.code, 0, same.stdout + same.stderr);
  });

  test('patch with all three types, and bad patches leave the object unchanged', async () => {
    const n7 = await ns();
    await ok(['create', 'deployment', 'web', '--image=nginx', '-n', n7]);
    await ok(['patch', 'deploy', 'web', '-n', n7, '--type=merge', '-p', '{"spec":{"replicas":2}}']);
    await ok(['patch', 'deploy', 'web', '-n', n7, '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":3}]']);
    await ok(['patch', 'deploy', 'web', '-n', n7, '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:2"}]}}}}']);
    const d = await get(n7, ['deploy', 'web']);
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:2');
    const rv = d.metadata.resourceVersion;
    const badTest = await s.kubectl(['patch', 'deploy', 'web', '-n', n7, '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":9}]']);
    assert.notEqual(badTest.code, 0);
    const badPointer = await s.kubectl(['patch', 'deploy', 'web', '-n', n7, '--type=json', '-p', '[{"op":"remove","path":"/spec/nope"}]']);
    assert.notEqual(badPointer.code, 0);
    const invalid = await s.kubectl(['patch', 'deploy', 'web', '-n', n7, '--type=merge', '-p', '{"spec":{"replicas":-1}}']);
    assert.match(invalid.stderr, /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
    const typeChange = await s.kubectl(['patch', 'deploy', 'web', '-n', n7, '--type=merge', '-p', '{"spec":{"replicas":"many"}}']);
    assert.notEqual(typeChange.code, 0);
    assert.equal((await get(n7, ['deploy', 'web'])).metadata.resourceVersion, rv, 'nothing half-written');
  });

  test('kubectl set image, env, resources; label --overwrite', async () => {
    const n8 = await ns();
    await ok(['create', 'deployment', 'web', '--image=nginx:1.26', '-n', n8]);
    assert.match(await ok(['set', 'image', 'deploy/web', 'nginx=nginx:1.27', '-n', n8]), /deployment\.apps\/web image updated/);
    assert.match(await ok(['set', 'env', 'deploy/web', 'MODE=fast', '-n', n8]), /deployment\.apps\/web env updated/);
    assert.match(await ok(['set', 'resources', 'deploy/web', '--limits=cpu=200m,memory=256Mi', '--requests=cpu=100m', '-n', n8]), /deployment\.apps\/web resource requirements updated/);
    const c = (await get(n8, ['deploy', 'web'])).spec.template.spec.containers[0];
    assert.equal(c.image, 'nginx:1.27');
    assert.deepEqual(c.env, [{ name: 'MODE', value: 'fast' }]);
    assert.deepEqual(c.resources, { limits: { cpu: '200m', memory: '256Mi' }, requests: { cpu: '100m' } });
    await ok(['label', 'deploy', 'web', 'tier=a', '-n', n8]);
    await ok(['label', 'deploy', 'web', 'tier=b', '--overwrite', '-n', n8]);
    assert.equal(await ok(['get', 'deploy', 'web', '-n', n8, '-o', 'jsonpath={.metadata.labels.tier}']), 'b');
  });
});
