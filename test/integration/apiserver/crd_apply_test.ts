// Server-side apply of custom resources typed by their CRD's schema, driven by the real kubectl:
// listType map/set entries owned per applier, atomic lists and maps owned whole, preserved
// (free-form) subtrees granular, conflicts naming the schema's fields and upstream's FieldsV1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { applyCrds, kubectlFails, kubectlOk } from '../../../src/testing/integration_helpers.ts';

const WIDGET_CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.apply.example.com
spec:
  group: apply.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                ports:
                  type: array
                  x-kubernetes-list-type: map
                  x-kubernetes-list-map-keys: [name]
                  items:
                    type: object
                    required: [name]
                    properties:
                      name: {type: string}
                      port: {type: integer}
                tags:
                  type: array
                  x-kubernetes-list-type: set
                  items: {type: string}
                args:
                  type: array
                  items: {type: string}
                selector:
                  type: object
                  x-kubernetes-map-type: atomic
                  additionalProperties: {type: string}
                labels:
                  type: object
                  additionalProperties: {type: string}
                size:
                  x-kubernetes-int-or-string: true
                template:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
            status:
              type: object
              properties:
                phase: {type: string}
`;

type Json = Record<string, any>;

let s: TestServer;

function widget(name: string, spec: string): string {
  return `apiVersion: apply.example.com/v1\nkind: Widget\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;
}

async function apply(manager: string, yaml: string, ...extra: string[]): Promise<void> {
  await kubectlOk(s, ['apply', '--server-side', '--field-manager', manager, ...extra, '-f', '-'], yaml);
}

async function getJson(name: string): Promise<Json> {
  return JSON.parse((await kubectlOk(s, ['get', 'widget', name, '-o', 'json', '--show-managed-fields'])).stdout) as Json;
}

function fieldsOf(obj: Json, manager: string, operation = 'Apply'): Json | undefined {
  return (obj['metadata']['managedFields'] as Json[]).find((e) => e['manager'] === manager && e['operation'] === operation)?.['fieldsV1'];
}

before(async () => {
  s = await startTestServer();
  await applyCrds(s, WIDGET_CRD, 'widgets.apply.example.com');
});

after(async () => {
  await s?.stop();
});

describe('server-side apply of custom resources', () => {
  test('two appliers owning different entries of a listType=map list merge', async () => {
    await apply('alice', widget('w1', 'ports:\n- {name: http, port: 80}'));
    await apply('bob', widget('w1', 'ports:\n- {name: https, port: 443}'));
    const w = await getJson('w1');
    assert.deepEqual(w['spec']['ports'], [{ name: 'http', port: 80 }, { name: 'https', port: 443 }]);
    assert.deepEqual(fieldsOf(w, 'alice'), { 'f:spec': { 'f:ports': { 'k:{"name":"http"}': { '.': {}, 'f:name': {}, 'f:port': {} } } } });
    assert.deepEqual(fieldsOf(w, 'bob'), { 'f:spec': { 'f:ports': { 'k:{"name":"https"}': { '.': {}, 'f:name': {}, 'f:port': {} } } } });
    // An applier dropping its entry removes it and leaves the other's.
    await apply('alice', widget('w1', 'ports: []'));
    assert.deepEqual((await getJson('w1'))['spec']['ports'], [{ name: 'https', port: 443 }]);
  });

  test('a conflict names the map entry field and its owner', async () => {
    await apply('alice', widget('w2', 'ports:\n- {name: http, port: 80}'));
    const err = await kubectlFails(s, ['apply', '--server-side', '--field-manager', 'bob', '-f', '-'], widget('w2', 'ports:\n- {name: http, port: 81}'));
    assert.match(err, /Apply failed with 1 conflict: conflict with "alice": \.spec\.ports\[name="http"\]\.port/);
    await apply('bob', widget('w2', 'ports:\n- {name: http, port: 81}'), '--force-conflicts');
    const w = await getJson('w2');
    assert.deepEqual(w['spec']['ports'], [{ name: 'http', port: 81 }]);
    // alice keeps the key (both set it to the same value), bob takes the port.
    assert.deepEqual(fieldsOf(w, 'alice'), { 'f:spec': { 'f:ports': { 'k:{"name":"http"}': { '.': {}, 'f:name': {} } } } });
  });

  test('set items are owned one by one; atomic lists and maps as a whole', async () => {
    await apply('alice', widget('w3', 'tags: [a]\nargs: [one]\nselector: {app: one}\nlabels: {a: "1"}'));
    await apply('bob', widget('w3', 'tags: [b]\nlabels: {b: "2"}'));
    let w = await getJson('w3');
    assert.deepEqual(w['spec']['tags'], ['a', 'b']);
    assert.deepEqual(w['spec']['labels'], { a: '1', b: '2' });
    assert.deepEqual(fieldsOf(w, 'alice'), {
      'f:spec': { 'f:args': {}, 'f:labels': { 'f:a': {} }, 'f:selector': {}, 'f:tags': { 'v:"a"': {} } },
    });
    const argsErr = await kubectlFails(s, ['apply', '--server-side', '--field-manager', 'bob', '-f', '-'], widget('w3', 'args: [two]'));
    assert.match(argsErr, /conflict with "alice": \.spec\.args/);
    const selErr = await kubectlFails(s, ['apply', '--server-side', '--field-manager', 'bob', '-f', '-'], widget('w3', 'selector: {other: two}'));
    assert.match(selErr, /conflict with "alice": \.spec\.selector/);
    w = await getJson('w3');
    assert.deepEqual(w['spec']['selector'], { app: 'one' });
  });

  test('preserved fields are free-form: maps granular, lists atomic; int-or-string is a scalar', async () => {
    await apply('alice', widget('w4', 'size: 3\ntemplate:\n  a: {b: 1}\n  list: [1, 2]'));
    await apply('bob', widget('w4', 'template:\n  a: {c: 2}'));
    const w = await getJson('w4');
    assert.deepEqual(w['spec']['template'], { a: { b: 1, c: 2 }, list: [1, 2] });
    // Undeclared keys are members themselves ("."), as upstream's ToFieldSet records them.
    assert.deepEqual(fieldsOf(w, 'alice'), { 'f:spec': { 'f:size': {}, 'f:template': { 'f:a': { '.': {}, 'f:b': {} }, 'f:list': {} } } });
    await apply('alice', widget('w4', 'size: "50%"\ntemplate:\n  a: {b: 1}\n  list: [1, 2]'));
    assert.equal((await getJson('w4'))['spec']['size'], '50%');
  });

  test('updates (kubectl patch) record the schema-typed fields they change', async () => {
    await apply('alice', widget('w5', 'ports:\n- {name: http, port: 80}'));
    await kubectlOk(s, ['patch', 'widget', 'w5', '--type', 'json', '-p', '[{"op":"add","path":"/spec/ports/-","value":{"name":"metrics","port":9090}}]']);
    const w = await getJson('w5');
    assert.deepEqual(fieldsOf(w, 'kubectl-patch', 'Update'), { 'f:spec': { 'f:ports': { 'k:{"name":"metrics"}': { '.': {}, 'f:name': {}, 'f:port': {} } } } });
    // alice's entry is untouched, so applying it again without the patched entry keeps the latter.
    await apply('alice', widget('w5', 'ports:\n- {name: http, port: 8080}'));
    assert.deepEqual((await getJson('w5'))['spec']['ports'], [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }]);
  });

  test('a status write through /status is owned under the status subresource', async () => {
    await apply('alice', widget('w6', 'tags: [a]'));
    await kubectlOk(s, ['patch', 'widget', 'w6', '--subresource', 'status', '--field-manager', 'ctrl', '--type', 'merge', '-p', '{"status":{"phase":"Ready"}}']);
    const w = await getJson('w6');
    assert.equal(w['status']['phase'], 'Ready');
    const entry = (w['metadata']['managedFields'] as Json[]).find((e) => e['manager'] === 'ctrl');
    assert.equal(entry?.['subresource'], 'status');
    assert.deepEqual(entry?.['fieldsV1'], { 'f:status': { '.': {}, 'f:phase': {} } });
  });
});
