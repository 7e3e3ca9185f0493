// CustomResourceDefinitions served end to end, driven by the real kubectl: the textbook CronTab
// walk-through, CRD status (names, Established, storedVersions), discovery, printer columns,
// status and scale subresources, validation and field validation, and bad requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { applyCrds, kubectlFails, kubectlOk } from '../../../src/testing/integration_helpers.ts';

/** The CronTab CRD of the Kubernetes documentation, plus printer columns and subresources. */
const CRONTAB_CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                cronSpec:
                  type: string
                image:
                  type: string
                replicas:
                  type: integer
                  minimum: 0
                  maximum: 10
            status:
              type: object
              properties:
                replicas: {type: integer}
                labelSelector: {type: string}
      subresources:
        status: {}
        scale:
          specReplicasPath: .spec.replicas
          statusReplicasPath: .status.replicas
          labelSelectorPath: .status.labelSelector
      additionalPrinterColumns:
        - {name: Spec, type: string, jsonPath: .spec.cronSpec}
        - {name: Replicas, type: integer, jsonPath: .spec.replicas}
        - {name: Image, type: string, jsonPath: .spec.image, priority: 1}
        - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames:
    - ct
    categories:
    - all
`;

const crontab = (name: string, extra = ''): string => `
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: ${name}
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
  replicas: 1${extra}
`;

type Json = Record<string, any>;

let s: TestServer;

async function getJson(args: string[]): Promise<Json> {
  return JSON.parse((await kubectlOk(s, [...args, '-o', 'json'])).stdout) as Json;
}

function condition(crd: Json, type: string): Json | undefined {
  return (crd['status']?.['conditions'] as Json[] | undefined)?.find((c) => c['type'] === type);
}

async function patch(path: string, body: unknown, contentType = 'application/merge-patch+json'): Promise<{ status: number; json: Json; warning: string }> {
  const r = await s.request('PATCH', path, { body: JSON.stringify(body), headers: { 'Content-Type': contentType } });
  return { status: r.status, json: r.json(), warning: String(r.headers['warning'] ?? '') };
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Json; warning: string }> {
  const r = await s.request('POST', path, { body: JSON.stringify(body) });
  return { status: r.status, json: r.json(), warning: String(r.headers['warning'] ?? '') };
}

const CRONTABS = '/apis/stable.example.com/v1/namespaces/default/crontabs';

before(async () => {
  s = await startTestServer();
  await applyCrds(s, CRONTAB_CRD, 'crontabs.stable.example.com');
});

after(async () => {
  await s?.stop();
});

describe('CustomResourceDefinition serving', () => {
  test('a new CRD gets accepted names, NamesAccepted, Established and storedVersions', async () => {
    const crd = await getJson(['get', 'crd', 'crontabs.stable.example.com']);
    assert.deepEqual(crd['status']['acceptedNames'], {
      plural: 'crontabs', singular: 'crontab', shortNames: ['ct'], kind: 'CronTab', listKind: 'CronTabList', categories: ['all'],
    });
    assert.deepEqual({ ...condition(crd, 'NamesAccepted'), lastTransitionTime: undefined },
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: undefined });
    assert.deepEqual({ ...condition(crd, 'Established'), lastTransitionTime: undefined },
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: undefined });
    assert.deepEqual(crd['status']['storedVersions'], ['v1']);
    assert.equal(crd['metadata']['generation'], 1);
  });

  test('the textbook CronTab walk-through: apply, get by every name, describe, patch, label, delete', async () => {
    assert.match((await kubectlOk(s, ['apply', '-f', '-'], crontab('my-new-cron-object'))).stdout, /crontab.stable.example.com\/my-new-cron-object created/);
    for (const name of ['crontabs', 'crontab', 'ct', 'CronTab', 'crontabs.stable.example.com']) {
      const out = (await kubectlOk(s, ['get', name])).stdout;
      assert.match(out, /^NAME\s+SPEC\s+REPLICAS\s+AGE\n/, name);
      assert.match(out, /my-new-cron-object\s+\* \* \* \* \*\/5\s+1\s+\d+s/, name);
    }
    const obj = await getJson(['get', 'ct', 'my-new-cron-object']);
    assert.equal(obj['apiVersion'], 'stable.example.com/v1');
    assert.equal(obj['kind'], 'CronTab');
    assert.equal(obj['metadata']['generation'], 1);
    assert.match(obj['metadata']['uid'], /^[0-9a-f-]{36}$/);
    assert.match((await kubectlOk(s, ['describe', 'crontab', 'my-new-cron-object'])).stdout, /Kind:\s+CronTab[\s\S]*Cron Spec:\s+\* \* \* \* \*\/5/);
    await kubectlOk(s, ['label', 'crontab', 'my-new-cron-object', 'tier=batch']);
    await kubectlOk(s, ['annotate', 'crontab', 'my-new-cron-object', 'note=hi']);
    assert.match((await kubectlOk(s, ['get', 'crontabs', '-l', 'tier=batch', '-o', 'name'])).stdout, /^crontab.stable.example.com\/my-new-cron-object\n$/);
    await kubectlOk(s, ['patch', 'crontab', 'my-new-cron-object', '--type', 'merge', '-p', '{"spec":{"image":"v2"}}']);
    await kubectlOk(s, ['patch', 'crontab', 'my-new-cron-object', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/replicas","value":2}]']);
    // The default (strategic) patch type is refused for custom resources, as upstream.
    assert.match(await kubectlFails(s, ['patch', 'crontab', 'my-new-cron-object', '-p', '{"spec":{"replicas":3}}']),
      /application\/strategic-merge-patch\+json is not supported by stable.example.com\/v1, Kind=CronTab: the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/);
    const after = await getJson(['get', 'crontab', 'my-new-cron-object']);
    assert.equal(after['spec']['image'], 'v2');
    assert.equal(after['spec']['replicas'], 2);
    assert.equal(after['metadata']['generation'], 3, 'spec changes bump generation, label/annotate do not');
    assert.equal(after['metadata']['labels']['tier'], 'batch');
    // Client-side apply again (a JSON merge patch computed by kubectl), then server-side apply.
    await kubectlOk(s, ['apply', '-f', '-'], crontab('my-new-cron-object').replace('my-awesome-cron-image', 'v3'));
    await kubectlOk(s, ['apply', '--server-side', '--force-conflicts', '-f', '-'], crontab('my-new-cron-object').replace('my-awesome-cron-image', 'v4'));
    const applied = await getJson(['get', 'crontab', 'my-new-cron-object', '--show-managed-fields']);
    assert.equal(applied['spec']['image'], 'v4');
    assert.ok((applied['metadata']['managedFields'] as Json[]).some((m) => m['manager'] === 'kubectl' && m['operation'] === 'Apply'));
    assert.match((await kubectlOk(s, ['delete', 'crontab', 'my-new-cron-object'])).stdout, /crontab.stable.example.com "my-new-cron-object" deleted/);
    assert.match(await kubectlFails(s, ['get', 'crontab', 'my-new-cron-object']), /NotFound.*crontabs.stable.example.com "my-new-cron-object" not found/);
  });

  test('discovery lists the resource with its short names and categories', async () => {
    const out = (await kubectlOk(s, ['api-resources', '--api-group=stable.example.com'])).stdout;
    assert.match(out, /crontabs\s+ct\s+stable.example.com\/v1\s+true\s+CronTab/);
    const legacy = (await s.request('GET', '/apis/stable.example.com/v1')).json<Json>();
    assert.deepEqual(legacy['resources'].map((r: Json) => [r['name'], r['verbs']]), [
      ['crontabs', ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch']],
      ['crontabs/status', ['get', 'patch', 'update']],
      ['crontabs/scale', ['get', 'patch', 'update']],
    ]);
    const group = (await s.request('GET', '/apis/stable.example.com')).json<Json>();
    assert.deepEqual(group['preferredVersion'], { groupVersion: 'stable.example.com/v1', version: 'v1' });
    await kubectlOk(s, ['apply', '-f', '-'], crontab('in-all'));
    assert.match((await kubectlOk(s, ['get', 'all'])).stdout, /crontab.stable.example.com\/in-all/);
    await kubectlOk(s, ['delete', 'crontab', 'in-all']);
  });

  test('printer columns: priority > 0 only with -o wide; JSONPath cells', async () => {
    await kubectlOk(s, ['apply', '-f', '-'], crontab('cols'));
    assert.match((await kubectlOk(s, ['get', 'crontab', 'cols'])).stdout, /^NAME\s+SPEC\s+REPLICAS\s+AGE\ncols\s+\* \* \* \* \*\/5\s+1\s+\d+s\n$/);
    assert.match((await kubectlOk(s, ['get', 'crontab', 'cols', '-o', 'wide'])).stdout, /^NAME\s+SPEC\s+REPLICAS\s+IMAGE\s+AGE\ncols\s+\* \* \* \* \*\/5\s+1\s+my-awesome-cron-image\s+\d+s\n$/);
    await kubectlOk(s, ['delete', 'crontab', 'cols']);
  });

  test('status subresource: the main resource ignores status, /status ignores the rest', async () => {
    await kubectlOk(s, ['apply', '-f', '-'], crontab('st', '\nstatus:\n  replicas: 7'));
    let obj = await getJson(['get', 'crontab', 'st']);
    assert.equal(obj['status'], undefined, 'status dropped on create');
    const r = await patch(`${CRONTABS}/st/status`, { status: { replicas: 1, labelSelector: 'app=st' }, spec: { replicas: 9 }, metadata: { labels: { x: 'y' } } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    obj = await getJson(['get', 'crontab', 'st']);
    assert.deepEqual(obj['status'], { replicas: 1, labelSelector: 'app=st' });
    assert.equal(obj['spec']['replicas'], 1);
    assert.equal(obj['metadata']['labels'], undefined);
    assert.equal(obj['metadata']['generation'], 1, 'status writes do not bump generation');
    const main = await patch(`${CRONTABS}/st`, { status: { replicas: 5 }, spec: { image: 'x' } });
    assert.equal(main.json['status']['replicas'], 1);
    assert.equal(main.json['metadata']['generation'], 2);
    await kubectlOk(s, ['delete', 'crontab', 'st']);
  });

  test('scale subresource: kubectl scale and the autoscaling/v1 Scale view', async () => {
    await kubectlOk(s, ['apply', '-f', '-'], crontab('sc'));
    await patch(`${CRONTABS}/sc/status`, { status: { replicas: 1, labelSelector: 'app=sc' } });
    assert.match((await kubectlOk(s, ['scale', 'crontab', 'sc', '--replicas=3'])).stdout, /crontab.stable.example.com\/sc scaled/);
    const scale = (await s.request('GET', `${CRONTABS}/sc/scale`)).json<Json>();
    assert.equal(scale['kind'], 'Scale');
    assert.equal(scale['apiVersion'], 'autoscaling/v1');
    assert.deepEqual(scale['spec'], { replicas: 3 });
    assert.deepEqual(scale['status'], { replicas: 1, selector: 'app=sc' });
    assert.equal((await getJson(['get', 'crontab', 'sc']))['spec']['replicas'], 3);
    // The CR's schema still applies (maximum 10); negative replicas are refused by the scale checks.
    assert.match(await kubectlFails(s, ['scale', 'crontab', 'sc', '--replicas=11']), /The CronTab "sc" is invalid: spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10/);
    const neg = await patch(`${CRONTABS}/sc/scale`, { spec: { replicas: -1 } });
    assert.equal(neg.status, 422);
    assert.match(neg.json['message'], /CronTab.stable.example.com "sc" is invalid: .*Invalid value: -1/);
    await kubectlOk(s, ['delete', 'crontab', 'sc']);
  });

  test('schema validation answers 422 with upstream\'s message shape', async () => {
    const msg = await kubectlFails(s, ['apply', '-f', '-'], crontab('bad').replace('replicas: 1', 'replicas: 20'));
    assert.match(msg, /The CronTab "bad" is invalid: spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10/);
    const r = await post(CRONTABS, { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'bad' }, spec: { replicas: 'three' } });
    assert.equal(r.status, 422);
    assert.equal(r.json['reason'], 'Invalid');
    // Upstream's scale check reads the same field and reports it too.
    assert.equal(r.json['message'], 'CronTab.stable.example.com "bad" is invalid: [spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string", '
      + '.spec.replicas: Invalid value: 0: .spec.replicas accessor error: three is of the type string, expected int64]');
    assert.equal(r.json['details']['kind'], 'CronTab');
    assert.equal(r.json['details']['group'], 'stable.example.com');
    const badName = await post(CRONTABS, { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'Bad_Name' } });
    assert.equal(badName.status, 422);
    assert.match(badName.json['message'], /metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  });

  test('field validation: unknown fields warn by default, fail with Strict, pass silently with Ignore; all are pruned', async () => {
    const body = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'fv1' }, spec: { image: 'x', foo: 1 } };
    const warn = await post(CRONTABS, body);
    assert.equal(warn.status, 201);
    assert.equal(warn.warning, '299 - "unknown field \\"spec.foo\\""');
    assert.equal(warn.json['spec']['foo'], undefined);
    const strict = await post(`${CRONTABS}?fieldValidation=Strict`, { ...body, metadata: { name: 'fv2' } });
    assert.equal(strict.status, 400);
    assert.equal(strict.json['message'], 'CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec.foo"');
    const ignore = await post(`${CRONTABS}?fieldValidation=Ignore`, { ...body, metadata: { name: 'fv3' } });
    assert.equal(ignore.status, 201);
    assert.equal(ignore.warning, '');
    assert.equal(ignore.json['spec']['foo'], undefined);
    // kubectl validates strictly by default, as against upstream.
    assert.match(await kubectlFails(s, ['apply', '-f', '-'], crontab('fv4', '\n  bogus: 1')), /strict decoding error: unknown field "spec.bogus"/);
    await kubectlOk(s, ['delete', 'crontab', 'fv1', 'fv3']);
  });

  test('bad requests: wrong kind or apiVersion, unknown versions, scopes and subresources', async () => {
    const wrongKind = await post(CRONTABS, { apiVersion: 'stable.example.com/v1', kind: 'Gadget', metadata: { name: 'g' } });
    assert.equal(wrongKind.status, 422);
    assert.equal(wrongKind.json['message'], 'Gadget.stable.example.com "g" is invalid: kind: Invalid value: "Gadget": must be CronTab');
    const wrongVersion = await post(CRONTABS, { apiVersion: 'stable.example.com/v2', kind: 'CronTab', metadata: { name: 'g' } });
    assert.equal(wrongVersion.status, 400);
    assert.equal(wrongVersion.json['message'], 'the API version in the data (stable.example.com/v2) does not match the expected API version (stable.example.com/v1)');
    const notJson = await s.request('POST', CRONTABS, { body: '{"apiVersion":' });
    assert.equal(notJson.status, 400);
    for (const path of [
      '/apis/stable.example.com/v2/namespaces/default/crontabs',
      '/apis/stable.example.com/v1/crontabs/x',
      '/apis/stable.example.com/v1/namespaces/default/gadgets',
      '/apis/other.example.com/v1/namespaces/default/crontabs',
    ]) {
      assert.equal((await s.request('GET', path)).status, 404, path);
    }
    await kubectlOk(s, ['apply', '-f', '-'], crontab('br'));
    assert.equal((await s.request('GET', `${CRONTABS}/br/exec`)).status, 404);
    assert.equal((await s.request('POST', `${CRONTABS}/br/status`, { body: '{}' })).status, 405);
    const proto = await s.request('POST', CRONTABS, { body: 'x', headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' } });
    assert.equal(proto.status, 415);
    await kubectlOk(s, ['delete', 'crontab', 'br']);
  });

  test('kubectl explain reads the published OpenAPI, kubectl edit writes through a merge patch', async () => {
    const index = (await s.request('GET', '/openapi/v3')).json<Json>();
    assert.ok(index['paths']['apis/stable.example.com/v1'], 'the v3 index lists the CRD group-version');
    const doc = await s.request('GET', index['paths']['apis/stable.example.com/v1']['serverRelativeURL']);
    assert.equal(doc.status, 200);
    assert.match((await kubectlOk(s, ['explain', 'crontab.spec'])).stdout, /KIND:\s+CronTab[\s\S]*FIELD: spec <Object>[\s\S]*cronSpec\s+<string>[\s\S]*replicas\s+<integer>/);
    await kubectlOk(s, ['apply', '-f', '-'], crontab('ed'));
    await s.kubectl(['edit', 'crontab', 'ed'], { env: { KUBE_EDITOR: 'sed -i s/my-awesome-cron-image/edited-image/' } }).then((r) => assert.equal(r.code, 0, r.stderr));
    assert.equal((await getJson(['get', 'crontab', 'ed']))['spec']['image'], 'edited-image');
    await kubectlOk(s, ['delete', 'crontab', 'ed']);
  });

  test('an invalid CRD is refused with 422 and upstream\'s messages; nothing is stored', async () => {
    const msg = await kubectlFails(s, ['apply', '-f', '-'], `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.stable.example.com}
spec:
  group: stable.example.com
  scope: Sometimes
  names: {plural: things, kind: Thing}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
`);
    assert.match(msg, /The CustomResourceDefinition "things.stable.example.com" is invalid: spec.scope: Unsupported value: "Sometimes": supported values: "Cluster", "Namespaced"/);
    assert.equal((await s.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.stable.example.com')).status, 404);
  });

  test('list with field selectors and across namespaces; deletecollection', async () => {
    await kubectlOk(s, ['create', 'namespace', 'lsa']);
    await kubectlOk(s, ['create', 'namespace', 'lsb']);
    await kubectlOk(s, ['apply', '-n', 'lsa', '-f', '-'], crontab('l1'));
    await kubectlOk(s, ['apply', '-n', 'lsb', '-f', '-'], crontab('l2'));
    const names = async (args: string[]): Promise<string[]> => (await kubectlOk(s, ['get', 'crontabs', '-A', ...args, '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ').filter((n) => n.startsWith('l'));
    assert.deepEqual(await names([]), ['l1', 'l2']);
    assert.deepEqual(await names(['--field-selector', 'metadata.name=l2']), ['l2']);
    assert.deepEqual(await names(['--field-selector', 'metadata.namespace=lsa']), ['l1']);
    assert.match(await kubectlFails(s, ['get', 'crontabs', '--field-selector', 'spec.image=x']), /field label not supported: spec\.image/);
    await kubectlOk(s, ['delete', 'crontabs', '--all', '-n', 'lsb']);
    assert.deepEqual(await names([]), ['l1']);
    await kubectlOk(s, ['delete', 'crontab', 'l1', '-n', 'lsa']);
  });
});
