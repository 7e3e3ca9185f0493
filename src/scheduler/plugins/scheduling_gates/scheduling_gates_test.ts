// SchedulingGates after upstream's TestPreEnqueue.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../framework/interface.ts';
import { makePod } from '../../framework/testing/wrappers.ts';
import { SchedulingGates } from './scheduling_gates.ts';

describe('SchedulingGates PreEnqueue', () => {
  const pl = new SchedulingGates();
  test('pod does not carry scheduling gates', () => assert.equal(pl.preEnqueue(makePod().obj()), null));
  test('pod carries scheduling gates', () => {
    const s = pl.preEnqueue(makePod().schedulingGates('foo', 'bar').obj());
    assert.deepEqual({ code: s?.code, reasons: s?.reasons }, { code: Code.UnschedulableAndUnresolvable, reasons: ['waiting for scheduling gates: [foo bar]'] });
  });
});
