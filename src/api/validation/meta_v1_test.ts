// Tests for metav1 validation: label selector fields, request options and conditions, with cases
// from upstream's apis/meta/v1/validation tests and exact messages.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorString, newPath } from '../field_errors.ts';
import {
  labelSelectorHasInvalidLabelValue,
  validateConditions,
  validateDeleteOptions,
  validateDryRun,
  validateFieldValidation,
  validateLabelSelector,
  validatePatchOptions,
  validateTableOptions,
  validateWriteOptions,
} from './meta_v1.ts';

const sel = newPath('spec', 'selector');

describe('validateLabelSelector', () => {
  test('a valid selector', () => {
    assert.deepEqual(
      validateLabelSelector(
        { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }, { key: 'x', operator: 'Exists' }] },
        {},
        sel,
      ),
      [],
    );
    assert.deepEqual(validateLabelSelector(null, {}, sel), []);
  });
  test('operator rules, key and values, with field paths', () => {
    const errs = validateLabelSelector(
      {
        matchLabels: { 'a b': 'x' },
        matchExpressions: [
          { key: 'k', operator: 'In', values: [] },
          { key: 'k', operator: 'Exists', values: ['v'] },
          { key: 'k', operator: 'Gt', values: ['1'] },
          { key: 'k', operator: 'NotIn', values: ['-bad'] },
        ],
      },
      {},
      sel,
    ).map(errorString);
    assert.equal(errs.length, 5);
    assert.ok(errs[0]!.startsWith('spec.selector.matchLabels: Invalid value: "a b": name part must consist of'));
    assert.equal(errs[1], "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'");
    assert.equal(errs[2], "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    assert.equal(errs[3], 'spec.selector.matchExpressions[2].operator: Invalid value: "Gt": not a valid selector operator');
    assert.ok(errs[4]!.startsWith('spec.selector.matchExpressions[3].values[0]: Invalid value: "-bad": a valid label must be'));
  });
  test('options relax operator and value checks', () => {
    const ps = { matchExpressions: [{ key: 'k', operator: 'Gt', values: ['-bad'] }] };
    assert.deepEqual(validateLabelSelector(ps, { allowUnknownOperatorInRequirement: true, allowInvalidLabelValueInSelector: true }, sel), []);
    assert.equal(labelSelectorHasInvalidLabelValue(ps), true);
    assert.equal(labelSelectorHasInvalidLabelValue({ matchExpressions: [{ key: 'k', operator: 'In', values: ['ok'] }] }), false);
  });
});

describe('request options', () => {
  test('dryRun', () => {
    assert.deepEqual(validateDryRun(newPath('dryRun'), ['All']), []);
    assert.deepEqual(validateDryRun(newPath('dryRun'), undefined), []);
    assert.deepEqual(validateDryRun(newPath('dryRun'), ['All', 'x']).map(errorString), [
      'dryRun: Unsupported value: []string{"All", "x"}: supported values: "All"',
    ]);
  });
  test('fieldValidation', () => {
    for (const v of ['', 'Ignore', 'Warn', 'Strict']) assert.deepEqual(validateFieldValidation(newPath('fieldValidation'), v), []);
    assert.deepEqual(validateFieldValidation(newPath('fieldValidation'), 'strict').map(errorString), [
      'fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
    ]);
  });
  test('create/update and patch options', () => {
    assert.deepEqual(validateWriteOptions({ fieldManager: 'kubectl-client-side-apply', dryRun: ['All'], fieldValidation: 'Strict' }), []);
    assert.deepEqual(validateWriteOptions({ fieldManager: 'x'.repeat(129) }).map(errorString), ['fieldManager: Too long: may not be more than 128 bytes']);
    assert.deepEqual(validatePatchOptions({}, 'application/apply-patch+yaml').map(errorString), ['fieldManager: Required value: is required for apply patch']);
    assert.deepEqual(validatePatchOptions({ fieldManager: 'kubectl', force: true }, 'application/apply-patch+yaml'), []);
    assert.deepEqual(validatePatchOptions({ force: false }, 'application/merge-patch+json').map(errorString), ['force: Forbidden: may not be specified for non-apply patch']);
  });
  test('delete options', () => {
    assert.deepEqual(validateDeleteOptions({ propagationPolicy: 'Foreground' }), []);
    assert.deepEqual(validateDeleteOptions({ propagationPolicy: 'Background', orphanDependents: false }).map(errorString), [
      'propagationPolicy: Invalid value: "Background": orphanDependents and deletionPropagation cannot be both set',
    ]);
    assert.deepEqual(validateDeleteOptions({ propagationPolicy: 'Later' }).map(errorString), [
      'propagationPolicy: Unsupported value: "Later": supported values: "Foreground", "Background", "Orphan", "nil"',
    ]);
    assert.deepEqual(validateDeleteOptions({ ignoreStoreReadErrorWithClusterBreakingPotential: true, dryRun: ['All'], gracePeriodSeconds: 0 }).map(errorString), [
      'ignoreStoreReadErrorWithClusterBreakingPotential: Invalid value: true: cannot be set together with .dryRun',
      'ignoreStoreReadErrorWithClusterBreakingPotential: Invalid value: true: cannot be set together with .gracePeriodSeconds',
    ]);
  });
  test('table options', () => {
    for (const v of ['', 'Metadata', 'Object', 'None', undefined]) assert.deepEqual(validateTableOptions(v), []);
    assert.deepEqual(validateTableOptions('All').map(errorString), ['includeObject: Invalid value: "All": must be \'Metadata\', \'Object\', \'None\', or empty']);
  });
});

describe('validateConditions', () => {
  const ok = { type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'AllGood', message: 'fine' };
  const p = newPath('status', 'conditions');
  test('valid conditions', () => assert.deepEqual(validateConditions([ok, { ...ok, type: 'example.com/Other', reason: 'A,B:C_' }], p), []));
  test('every rule with its message', () => {
    const errs = validateConditions(
      [ok, { ...ok }, { type: 'Bad Type', status: 'Yes', observedGeneration: -1, reason: '1bad', message: 'm'.repeat(32 * 1024 + 1) }, { ...ok, type: 'Other', reason: '' }],
      p,
    ).map(errorString);
    assert.equal(errs[0], 'status.conditions[1].type: Duplicate value: "Ready"');
    assert.ok(errs[1]!.startsWith('status.conditions[2].type: Invalid value: "Bad Type": name part must consist of'));
    assert.equal(errs[2], 'status.conditions[2].status: Unsupported value: "Yes": supported values: "False", "True", "Unknown"');
    assert.equal(errs[3], 'status.conditions[2].observedGeneration: Invalid value: -1: must be greater than or equal to zero');
    assert.equal(errs[4], 'status.conditions[2].lastTransitionTime: Required value: must be set');
    assert.equal(
      errs[5],
      "status.conditions[2].reason: Invalid value: \"1bad\": a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')",
    );
    assert.equal(errs[6], 'status.conditions[2].message: Too long: may not be more than 32768 bytes');
    assert.equal(errs[7], 'status.conditions[3].reason: Required value: must be set');
    assert.equal(errs.length, 8);
  });
});
