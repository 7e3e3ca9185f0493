// Tests of the static cost estimate of x-kubernetes-validations rules against figures upstream's
// CRD validation gives (cel-go's checker.Cost with the Kubernetes size estimator), and of the
// per-rule and per-schema limits CRD validation enforces with them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorString } from '../field_errors.ts';
import type { CustomResourceDefinition } from '../types/apiextensions_v1.ts';
import { compileRule } from './cel_compile.ts';
import { costErrorMessage, maxCardinality, TotalCost } from './cel_cost.ts';
import { toStructural } from './structural.ts';
import { validateCustomResourceDefinition } from './validation.ts';

function cost(rule: string, schema: Record<string, unknown>, isRoot = false): number {
  const c = compileRule({ rule }, toStructural(schema)!, isRoot);
  assert.equal(c.error, undefined, c.error?.detail);
  return c.maxCost;
}

function withSchema(spec: Record<string, unknown>): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'things.example.com' },
    spec: {
      group: 'example.com', scope: 'Namespaced', names: { plural: 'things', singular: 'thing', kind: 'Thing', listKind: 'ThingList' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: spec } } } } }],
    },
    status: { storedVersions: ['v1'] },
  } as unknown as CustomResourceDefinition;
}

const tags = (maxItems: number | undefined, maxLength: number | undefined, rule = "self.all(x, x.contains('gpu'))") => ({
  tags: { type: 'array', ...(maxItems !== undefined ? { maxItems } : {}), items: { type: 'string', ...(maxLength !== undefined ? { maxLength } : {}) }, 'x-kubernetes-validations': [{ rule }] },
});

describe('estimated rule cost', () => {
  test('a comprehension costs its range times the step: 11 per item for contains on maxLength 16', () => {
    const list = (maxItems: number, maxLength: number) => ({ type: 'array', maxItems, items: { type: 'string', maxLength } });
    // 2 for the range and the result, then per item: loop condition 2, && 1, contains 1 + ceil(4*16*0.1)*ceil(3*0.1).
    assert.equal(cost("self.all(x, x.contains('gpu'))", list(10, 16)), 2 + 10 * 11);
    assert.equal(cost("self.all(x, x.contains('gpu'))", list(10, 1024)), 2 + 10 * 414);
    assert.equal(cost("self.exists(x, x == 'a')", list(5, 16)), 2 + 5 * (4 + 1 + 1));
    // map: range, [] and result, then per item accu + [f] (12) and f (x + "a": ceil(9*0.1) + 1); size() 1; == on ints 1.
    assert.equal(cost('self.map(x, x + "a").size() == 1', list(4, 2)), 1 + 10 + 1 + 4 * (12 + 1 + 1) + 1 + 1);
  });

  test('strings, selections, presence tests and regexes', () => {
    const s = { type: 'object', properties: { name: { type: 'string', maxLength: 100 }, n: { type: 'integer' } } };
    assert.equal(cost('has(self.name)', s), 2);
    assert.equal(cost("self.name == 'x'", s), 2 + 1);
    assert.equal(cost('self.n > 3', s), 3);
    assert.equal(cost("self.name.startsWith('abc')", s), 2 + 1);
    // matches: ceil((400+1)*0.1) * ceil(6*0.25)
    assert.equal(cost("self.name.matches('^a.*z$')", s), 2 + 41 * 2);
    assert.equal(cost("self.name + 'x' == 'yx'", s), 2 + 41 + 1);
  });

  test('unbounded strings are sized from the request limit', () => {
    assert.equal(cost("self.matches('^[a-z]+$')", { type: 'string' }), 1 + Math.ceil(3145727 * 0.1) * Math.ceil(8 * 0.25));
    assert.equal(maxCardinality(2), 1048576);
  });

  test('messages show the factor as upstream formats it', () => {
    assert.equal(costErrorMessage('estimated rule cost', 10_000_003, 10_000_000),
      'estimated rule cost exceeds budget by factor of 1.000000x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)');
    assert.match(costErrorMessage('estimated rule cost', 25_000_000, 10_000_000), /by factor of 2\.5x /);
    assert.match(costErrorMessage('estimated rule cost', 2e9, 10_000_000), /by factor of more than 100x /);
  });

  test('the total keeps the four costliest rules', () => {
    const t = new TotalCost<string>();
    for (const [p, c] of [['a', 5], ['b', 9], ['c', 1], ['d', 7], ['e', 8], ['f', 0]] as const) t.observe(p, c);
    assert.equal(t.total, 30);
    assert.deepEqual(t.mostExpensive.map((x) => x.path), ['b', 'e', 'd', 'a']);
  });
});

describe('CRD validation of rule costs', () => {
  const rulePath = 'spec.validation.openAPIV3Schema.properties[spec].properties[tags].x-kubernetes-validations[0].rule';

  test('the largest maxItems upstream accepts passes, one more is over budget', () => {
    assert.deepEqual(validateCustomResourceDefinition(withSchema(tags(909_090, 16))).map(errorString), []);
    assert.deepEqual(validateCustomResourceDefinition(withSchema(tags(24_154, 1024))).map(errorString), []);
    assert.deepEqual(validateCustomResourceDefinition(withSchema(tags(909_091, 16))).map(errorString), [
      `${rulePath}: Forbidden: estimated rule cost exceeds budget by factor of 1.000000x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
    ]);
  });

  test('an unbounded list fails the rule and the schema total', () => {
    assert.deepEqual(validateCustomResourceDefinition(withSchema(tags(undefined, undefined))).map(errorString), [
      `${rulePath}: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
      `${rulePath}: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema`,
      'spec.validation.openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)',
    ]);
  });

  test('rules under a list run once per item: the cardinality multiplies their cost', () => {
    const items = (maxItems: number | undefined) => ({
      items: { type: 'array', ...(maxItems !== undefined ? { maxItems } : {}), items: { type: 'string', maxLength: 10, 'x-kubernetes-validations': [{ rule: "self.startsWith('a')" }] } },
    });
    assert.deepEqual(validateCustomResourceDefinition(withSchema(items(1000))), []);
    // Without maxItems the rule may run once per 3 bytes of a request: 1048576 runs of cost 2 still fit.
    assert.deepEqual(validateCustomResourceDefinition(withSchema(items(undefined))), []);
  });

  test('many rules each under the limit can exceed the schema total', () => {
    const spec: Record<string, unknown> = {};
    for (let i = 0; i < 11; i++) spec[`t${i}`] = tags(900_000, 16)['tags'];
    const errs = validateCustomResourceDefinition(withSchema(spec)).map(errorString);
    assert.equal(errs.length, 5);
    assert.match(errs[0]!, /properties\[t\d+\]\.x-kubernetes-validations\[0\]\.rule: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema/);
    assert.equal(errs[4], 'spec.validation.openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of 1.089000x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)');
  });
});
