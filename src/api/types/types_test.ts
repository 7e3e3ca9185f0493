// Tests that the generated types are what scripts/gen_types.ts makes of the vendored spec (nobody
// edited them by hand), and, through the typechecker, that they describe real objects.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { generateTypes, definitionLocation } from '../../../scripts/gen_types.ts';
import type { Pod } from './core_v1.ts';
import type { Deployment } from './apps_v1.ts';
import type { HorizontalPodAutoscaler } from './autoscaling_v2.ts';

const dir = new URL('./', import.meta.url);

describe('generated types', () => {
  test('match the generator output for the vendored spec', () => {
    const spec = JSON.parse(readFileSync(new URL('../openapi/kubernetes-v1.32-openapi-v2.json', import.meta.url), 'utf8')) as {
      definitions: Record<string, unknown>;
    };
    const expected = generateTypes(spec);
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('_test.ts')).sort();
    assert.deepEqual(onDisk, [...expected.keys()].sort(), 'run: node --import tsx scripts/gen_types.ts');
    for (const [file, text] of expected) {
      assert.equal(readFileSync(new URL(file, dir), 'utf8'), text, `${file} is stale; run: node --import tsx scripts/gen_types.ts`);
    }
  });

  test('definitions map to one file per group-version', () => {
    assert.deepEqual(definitionLocation('io.k8s.api.core.v1.Pod'), { file: 'core_v1', name: 'Pod' });
    assert.deepEqual(definitionLocation('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), { file: 'meta_v1', name: 'ObjectMeta' });
    assert.deepEqual(
      definitionLocation('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition'),
      { file: 'apiextensions_v1', name: 'CustomResourceDefinition' },
    );
    assert.deepEqual(definitionLocation('io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService'), { file: 'apiregistration_v1', name: 'APIService' });
    assert.deepEqual(definitionLocation('io.k8s.apimachinery.pkg.api.resource.Quantity'), { file: 'apimachinery', name: 'Quantity' });
  });

  test('describe real objects (checked by tsc)', () => {
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', labels: { app: 'web' }, creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: {
        containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m' } } }],
      },
    };
    const deploy: Deployment = {
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { spec: pod.spec },
        strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      },
    };
    const hpa: HorizontalPodAutoscaler = { spec: { maxReplicas: 3, scaleTargetRef: { kind: 'Deployment', name: 'web' } } };
    assert.equal(deploy.spec?.template.spec?.containers[0].name, 'c');
    assert.equal(hpa.spec?.maxReplicas, 3);
  });
});
