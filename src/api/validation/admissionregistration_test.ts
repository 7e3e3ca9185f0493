// Unit tests of admissionregistration.k8s.io validation: webhook configurations (names, rules,
// clientConfig, sideEffects, review versions, matchConditions) and policies with their bindings.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorString } from '../field_errors.ts';
import {
  validateMutatingWebhookConfiguration, validateValidatingAdmissionPolicy, validateValidatingAdmissionPolicyBinding,
  validateValidatingWebhookConfiguration, validateValidatingWebhookConfigurationUpdate,
} from './admissionregistration.ts';

type Obj = Record<string, unknown>;

function webhook(extra: Obj = {}): Obj {
  return {
    name: 'check.example.com', admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail', matchPolicy: 'Equivalent',
    timeoutSeconds: 10, namespaceSelector: {}, objectSelector: {},
    clientConfig: { url: 'https://127.0.0.1:8443/check' },
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods', 'pods/status'], scope: '*' }],
    ...extra,
  };
}

function messages(errs: ReturnType<typeof validateValidatingWebhookConfiguration>): string[] {
  return errs.map(errorString);
}

describe('webhook configuration validation', () => {
  test('a well-formed configuration passes', () => {
    assert.deepEqual(messages(validateValidatingWebhookConfiguration({ webhooks: [webhook()] })), []);
    assert.deepEqual(messages(validateMutatingWebhookConfiguration({ webhooks: [webhook({ reinvocationPolicy: 'IfNeeded' })] })), []);
  });

  test('names, sideEffects, timeouts, review versions and uniqueness', () => {
    const errs = messages(validateValidatingWebhookConfiguration({
      webhooks: [
        webhook({ name: 'short.name', sideEffects: 'Some', timeoutSeconds: 31, admissionReviewVersions: ['v1', 'v1'] }),
        webhook({ sideEffects: undefined, admissionReviewVersions: [] }),
        webhook(),
      ],
    }));
    assert.deepEqual(errs, [
      'webhooks[0].name: Invalid value: "short.name": should be a domain with at least three segments separated by dots',
      'webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"',
      'webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds',
      'webhooks[0].admissionReviewVersions[1]: Invalid value: "v1": duplicate version',
      'webhooks[1].sideEffects: Required value: must specify one of None, NoneOnDryRun',
      'webhooks[1].admissionReviewVersions: Required value: must specify one of v1, v1beta1',
      'webhooks[2].name: Duplicate value: "check.example.com"',
    ]);
  });

  test('clientConfig needs exactly one of url and service, https only', () => {
    assert.deepEqual(messages(validateValidatingWebhookConfiguration({ webhooks: [webhook({ clientConfig: {} })] })),
      ['webhooks[0].clientConfig: Required value: exactly one of url or service is required']);
    assert.deepEqual(messages(validateValidatingWebhookConfiguration({
      webhooks: [webhook({ clientConfig: { url: 'http://user@host/x?q=1#f' } })],
    })), [
      'webhooks[0].clientConfig.url: Invalid value: "http": \'https\' is the only allowed URL scheme; desired format: https://host[/path]',
      'webhooks[0].clientConfig.url: Invalid value: "user": user information is not permitted in the URL',
      'webhooks[0].clientConfig.url: Invalid value: "f": fragments are not permitted in the URL',
      'webhooks[0].clientConfig.url: Invalid value: "q=1": query parameters are not permitted in the URL',
    ]);
    assert.deepEqual(messages(validateValidatingWebhookConfiguration({
      webhooks: [webhook({ clientConfig: { service: { name: '', namespace: 'ns', port: 0, path: 'x//' } } })],
    })), [
      'webhooks[0].clientConfig.service.name: Required value: service name is required',
      'webhooks[0].clientConfig.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive',
      'webhooks[0].clientConfig.service.path: Invalid value: "x//": must start with a \'/\'',
      'webhooks[0].clientConfig.service.path: Invalid value: "x//": segment[0] may not be empty',
      'webhooks[0].clientConfig.service.path: Invalid value: "x//": segment[1] may not be empty',
    ]);
  });

  test('rules: operations, wildcards and subresources', () => {
    const errs = messages(validateValidatingWebhookConfiguration({
      webhooks: [webhook({ rules: [
        { operations: ['PATCH'], apiGroups: ['*', 'apps'], apiVersions: [], resources: ['*', 'pods'], scope: 'Everywhere' },
        { operations: [], apiGroups: [''], apiVersions: ['v1'], resources: ['*/*', 'pods'] },
      ] })],
    }));
    assert.deepEqual(errs, [
      'webhooks[0].rules[0].operations[0]: Unsupported value: "PATCH": supported values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"',
      'webhooks[0].rules[0].apiGroups: Invalid value: []string{"*", "apps"}: if \'*\' is present, must not specify other API groups',
      'webhooks[0].rules[0].apiVersions: Required value',
      'webhooks[0].rules[0].resources: Invalid value: []string{"*", "pods"}: if \'*\' is present, must not specify other resources without subresources',
      'webhooks[0].rules[0].scope: Unsupported value: "Everywhere": supported values: "*", "Cluster", "Namespaced"',
      'webhooks[0].rules[1].operations: Required value',
      'webhooks[0].rules[1].resources: Invalid value: []string{"*/*", "pods"}: if \'*/*\' is present, must not specify other resources',
    ]);
  });

  test('matchConditions compile; an unchanged invalid one is tolerated on update', () => {
    const bad = webhook({ matchConditions: [{ name: 'c', expression: 'params.x' }, { name: 'c', expression: 'true' }] });
    const errs = messages(validateValidatingWebhookConfiguration({ webhooks: [bad] }));
    assert.equal(errs.length, 2);
    assert.match(errs[0]!, /^webhooks\[0\]\.matchConditions\[0\]\.expression: Invalid value: "params.x": compilation failed: ERROR: <input>:1:1: undeclared reference to 'params'/);
    assert.equal(errs[1], 'webhooks[0].matchConditions[1].name: Duplicate value: "c"');
    const update = messages(validateValidatingWebhookConfigurationUpdate({ webhooks: [{ ...bad, timeoutSeconds: 5 }] }, { webhooks: [bad] }));
    assert.deepEqual(update, []);
  });
});

describe('ValidatingAdmissionPolicy validation', () => {
  const policy = (spec: Obj): Obj => ({
    metadata: { name: 'p.example.com' },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        matchPolicy: 'Equivalent', namespaceSelector: {}, objectSelector: {},
        resourceRules: [{ operations: ['CREATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], scope: '*' }],
      },
      validations: [{ expression: 'object.spec.replicas <= 5' }],
      ...spec,
    },
  });

  test('a policy with params, variables and messages passes', () => {
    assert.deepEqual(messages(validateValidatingAdmissionPolicy(policy({
      paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
      variables: [{ name: 'max', expression: 'int(params.data.max)' }],
      validations: [{ expression: 'object.spec.replicas <= variables.max', messageExpression: "'at most ' + string(variables.max)", reason: 'Forbidden' }],
      auditAnnotations: [{ key: 'replicas', valueExpression: 'string(object.spec.replicas)' }],
    }))), []);
  });

  test('required parts, bad CEL, bad names and reasons', () => {
    const errs = messages(validateValidatingAdmissionPolicy(policy({
      failurePolicy: undefined,
      matchConstraints: { matchPolicy: 'Equivalent', namespaceSelector: {}, objectSelector: {} },
      variables: [{ name: 'in', expression: 'true' }],
      validations: [{ expression: 'object.spec.replicas <=', message: 'a\nb', reason: 'Teapot' }, { expression: "'x'" }],
    })));
    assert.equal(errs[0], 'spec.failurePolicy: Required value');
    assert.equal(errs[1], 'spec.matchConstraints.resourceRules: Required value');
    assert.equal(errs[2], 'spec.variables[0].name: Invalid value: "in": name is not a valid CEL identifier');
    assert.match(errs[3]!, /^spec\.validations\[0\]\.expression: Invalid value: "object.spec.replicas <=": compilation failed: ERROR: <input>:1:24: Syntax error:/);
    assert.equal(errs[4], 'spec.validations[0].message: Invalid value: "a\\nb": message must not contain line breaks');
    assert.equal(errs[5], 'spec.validations[0].reason: Unsupported value: "Teapot": supported values: "Forbidden", "Invalid", "RequestEntityTooLarge"');
    assert.equal(errs[6], 'spec.validations[1].expression: Invalid value: "\'x\'": must evaluate to bool');
    assert.equal(errs.length, 7);
    assert.deepEqual(messages(validateValidatingAdmissionPolicy(policy({ validations: [] }))), [
      'spec.validations: Required value: validations or auditAnnotations must contain at least one item',
      'spec.auditAnnotations: Required value: validations or auditAnnotations must contain at least one item',
    ]);
  });

  test('bindings: policyName, paramRef and validationActions', () => {
    assert.deepEqual(messages(validateValidatingAdmissionPolicyBinding({
      spec: { policyName: 'p', validationActions: ['Deny'], paramRef: { name: 'cm', parameterNotFoundAction: 'Allow' } },
    })), []);
    assert.deepEqual(messages(validateValidatingAdmissionPolicyBinding({
      spec: { policyName: '', validationActions: ['Deny', 'Deny', 'Log'], paramRef: { name: 'a', selector: {}, parameterNotFoundAction: '' } },
    })), [
      'spec.policyName: Required value',
      'spec.paramRef.name: Forbidden: name and selector are mutually exclusive',
      'spec.paramRef.selector: Forbidden: name and selector are mutually exclusive',
      'spec.paramRef.parameterNotFoundAction: Required value',
      'spec.validationActions[1]: Duplicate value: "Deny"',
      'spec.validationActions[2]: Unsupported value: "Log": supported values: "Audit", "Deny", "Warn"',
    ]);
    assert.deepEqual(messages(validateValidatingAdmissionPolicyBinding({ spec: { policyName: 'p', validationActions: [] } })),
      ['spec.validationActions: Required value: at least one validation action is required']);
  });
});
