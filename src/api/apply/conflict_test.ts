// Tests of upstream's conflict messages and causes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { conflictCauses, conflictStatus, conflictStatusMessage, type ApplyConflict } from './conflict.ts';

const csa: ApplyConflict = { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', field: '.spec.replicas' };

describe('conflict messages', () => {
  test('one conflict', () => {
    assert.equal(conflictStatusMessage([csa]), 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
  });

  test('Apply managers are printed without a version; subresources are named', () => {
    assert.equal(conflictStatusMessage([{ manager: 'helm', operation: 'Apply', apiVersion: 'v1', field: '.data.a' }]), 'Apply failed with 1 conflict: conflict with "helm": .data.a');
    assert.equal(conflictStatusMessage([{ manager: 'kcm', operation: 'Update', apiVersion: 'apps/v1', subresource: 'status', field: '.status.replicas' }]),
      'Apply failed with 1 conflict: conflict with "kcm" with subresource "status" using apps/v1: .status.replicas');
  });

  test('several conflicts are grouped by manager, managers in identifier order', () => {
    const conflicts: ApplyConflict[] = [
      { manager: 'zeta', operation: 'Apply', apiVersion: 'v1', field: '.a' },
      csa,
      { manager: 'zeta', operation: 'Apply', apiVersion: 'v1', field: '.b' },
      { ...csa, field: '.spec.template.spec.containers[name="nginx"].image' },
    ];
    assert.equal(conflictStatusMessage(conflicts), [
      'Apply failed with 4 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:',
      '- .spec.replicas',
      '- .spec.template.spec.containers[name="nginx"].image',
      'conflicts with "zeta":',
      '- .a',
      '- .b',
    ].join('\n'));
  });

  test('causes name the field and the manager', () => {
    assert.deepEqual(conflictCauses([csa]), [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }]);
  });

  test('the status is a 409 Conflict with causes only in details', () => {
    assert.deepEqual(conflictStatus([csa]), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] },
      code: 409,
    });
  });
});
