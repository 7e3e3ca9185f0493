// Field selectors on custom resources (spec.versions[].selectableFields, GA in v1.32), driven by
// the real kubectl: list and watch select on declared JSON paths, other labels are refused with
// upstream's message, and the CRD validation of selectableFields.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { applyCrds, kubectlFails, kubectlOk } from '../../../src/testing/integration_helpers.ts';

function crd(name: string, scope: string, selectable: string, extraProps = ''): string {
  return `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${name}s.sel.example.com
spec:
  group: sel.example.com
  scope: ${scope}
  names: {plural: ${name}s, singular: ${name}, kind: ${name[0]!.toUpperCase()}${name.slice(1)}}
  versions:
    - name: v1
      served: true
      storage: true
      selectableFields:
${selectable.replace(/^/gm, '        ')}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                color: {type: string}
                size: {type: integer}
                enabled: {type: boolean}
                nested:
                  type: object
                  properties:
                    name: {type: string}
${extraProps.replace(/^/gm, '            ')}
`;
}

const SELECTABLE = '- {jsonPath: .spec.color}\n- {jsonPath: .spec.size}\n- {jsonPath: .spec.enabled}\n- {jsonPath: .spec.nested.name}';

let s: TestServer;

function shirt(name: string, spec: string): string {
  return `apiVersion: sel.example.com/v1\nkind: Shirt\nmetadata:\n  name: ${name}\nspec: ${spec}\n---\n`;
}

async function names(...args: string[]): Promise<string> {
  return (await kubectlOk(s, ['get', 'shirts', '-o', 'name', ...args])).stdout.replace(/shirt\.sel\.example\.com\//g, '').trim().split('\n').join(' ');
}

before(async () => {
  s = await startTestServer();
  await applyCrds(s, crd('shirt', 'Namespaced', SELECTABLE) + '---\n' + crd('hat', 'Cluster', '- {jsonPath: .spec.color}'), 'shirts.sel.example.com', 'hats.sel.example.com');
  await kubectlOk(s, ['apply', '-f', '-'],
    shirt('red-small', '{color: red, size: 1, enabled: true, nested: {name: a}}') +
    shirt('red-large', '{color: red, size: 3}') +
    shirt('blue-small', '{color: blue, size: 1, enabled: false}'));
});

after(async () => {
  await s?.stop();
});

describe('custom resource field selectors', () => {
  test('list selects on declared string, integer, boolean and nested fields', async () => {
    assert.equal(await names('--field-selector', 'spec.color=red'), 'red-large red-small');
    assert.equal(await names('--field-selector', 'spec.color!=red'), 'blue-small');
    assert.equal(await names('--field-selector', 'spec.size=1'), 'blue-small red-small');
    assert.equal(await names('--field-selector', 'spec.enabled=false'), 'blue-small');
    assert.equal(await names('--field-selector', 'spec.nested.name=a'), 'red-small');
    // An absent field has the empty value.
    assert.equal(await names('--field-selector', 'spec.nested.name='), 'blue-small red-large');
    assert.equal(await names('--field-selector', 'spec.color=red,spec.size=3,metadata.name=red-large'), 'red-large');
    assert.equal(await names('-A', '--field-selector', 'spec.color=blue,metadata.namespace=default'), 'blue-small');
  });

  test('undeclared fields are refused with upstream\'s message', async () => {
    const err = await kubectlFails(s, ['get', 'shirts', '--field-selector', 'spec.foo=x']);
    assert.match(err, /field label not supported: spec\.foo/);
    const r = await s.request('GET', '/apis/sel.example.com/v1/namespaces/default/shirts?fieldSelector=status.phase%3Dx');
    assert.equal(r.status, 400);
    assert.deepEqual({ reason: r.json()['reason'], message: r.json()['message'] }, { reason: 'BadRequest', message: 'field label not supported: status.phase' });
    // A cluster-scoped resource has no metadata.namespace to select on.
    assert.match(await kubectlFails(s, ['get', 'hats', '--field-selector', 'metadata.namespace=x']), /field label not supported: metadata\.namespace/);
    await kubectlOk(s, ['get', 'hats', '--field-selector', 'spec.color=red,metadata.name=x']);
  });

  test('watch follows objects into and out of the selection', async () => {
    const list = await s.request('GET', '/apis/sel.example.com/v1/namespaces/default/shirts');
    const rv = (list.json()['metadata'] as Record<string, string>)['resourceVersion'];
    const watch = s.request('GET', `/apis/sel.example.com/v1/namespaces/default/shirts?watch=1&timeoutSeconds=2&resourceVersion=${rv}&fieldSelector=spec.color%3Dred`);
    const patch = (name: string, color: string) => s.request('PATCH', `/apis/sel.example.com/v1/namespaces/default/shirts/${name}`,
      { body: JSON.stringify({ spec: { color } }), headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal((await patch('blue-small', 'red')).status, 200);
    assert.equal((await patch('red-large', 'green')).status, 200);
    const events = (await watch).body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
    assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED blue-small', 'DELETED red-large']);
  });

  test('the OpenAPI v3 schema lists the selectable fields', async () => {
    const doc = (await s.request('GET', '/openapi/v3/apis/sel.example.com/v1')).json() as { components: { schemas: Record<string, Record<string, unknown>> } };
    assert.deepEqual(doc.components.schemas['com.example.sel.v1.Shirt']?.['x-kubernetes-selectable-fields'],
      [{ fieldPath: 'spec.color' }, { fieldPath: 'spec.size' }, { fieldPath: 'spec.enabled' }, { fieldPath: 'spec.nested.name' }]);
  });

  test('CRD validation refuses selectable fields of other types, in metadata, undeclared or repeated', async () => {
    const bad = crd('sock', 'Namespaced', [
      '- {jsonPath: .spec.nested}', '- {jsonPath: .metadata.name}', '- {jsonPath: .spec.nope}', '- {jsonPath: .spec.color}', '- {jsonPath: .spec.color}', '- {jsonPath: ""}',
    ].join('\n'), 'metadata:\n  type: object\n  properties:\n    name: {type: string}');
    const err = await kubectlFails(s, ['apply', '-f', '-'], bad);
    // One version: its selectable fields are the CRD's (upstream validates the internal form).
    for (const want of [
      'spec.selectableFields[0].jsonPath: Invalid value: ".spec.nested": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.',
      'spec.selectableFields[1].jsonPath: Invalid value: ".metadata.name": must not point to fields in metadata',
      'spec.selectableFields[2].jsonPath: Invalid value: ".spec.nope": is an invalid path: does not refer to a valid field',
      'spec.selectableFields[4].jsonPath: Duplicate value: ".spec.color"',
      'spec.selectableFields[5].jsonPath: Required value',
    ]) assert.ok(err.includes(want), `${want}\nin: ${err}`);
  });
});
