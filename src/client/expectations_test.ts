// Controller expectations: satisfied once observed or after the 5-minute timeout; the UID-tracking
// flavour counts each deleted object once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.ts';
import { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS, UIDTrackingControllerExpectations } from './expectations.ts';

describe('ControllerExpectations', () => {
  test('are satisfied when nothing is expected or everything was observed', () => {
    const e = new ControllerExpectations(new FakeClock());
    assert.ok(e.satisfiedExpectations('ns/rs'));
    e.expectCreations('ns/rs', 2);
    assert.ok(!e.satisfiedExpectations('ns/rs'));
    e.creationObserved('ns/rs');
    assert.ok(!e.satisfiedExpectations('ns/rs'));
    e.creationObserved('ns/rs');
    assert.ok(e.satisfiedExpectations('ns/rs'));
    e.expectDeletions('ns/rs', 1);
    assert.deepEqual({ ...e.getExpectations('ns/rs'), timestamp: 0 }, { add: 0, del: 1, timestamp: 0 });
    e.deletionObserved('ns/rs');
    assert.ok(e.satisfiedExpectations('ns/rs'));
  });

  test('expire after five minutes so a lost event cannot wedge the controller', () => {
    const clock = new FakeClock();
    const e = new ControllerExpectations(clock);
    e.expectCreations('k', 1);
    clock.step(EXPECTATIONS_TIMEOUT_MS);
    assert.ok(!e.satisfiedExpectations('k'));
    clock.step(1);
    assert.ok(e.satisfiedExpectations('k'));
  });

  test('raise and lower only existing entries; delete forgets', () => {
    const e = new ControllerExpectations(new FakeClock());
    e.raiseExpectations('none', 1, 1);
    assert.equal(e.getExpectations('none'), undefined);
    e.setExpectations('k', 1, 0);
    e.raiseExpectations('k', 2, 1);
    assert.equal(e.getExpectations('k')?.add, 3);
    e.lowerExpectations('k', 3, 1);
    assert.ok(e.satisfiedExpectations('k'));
    e.deleteExpectations('k');
    assert.equal(e.getExpectations('k'), undefined);
  });
});

describe('UIDTrackingControllerExpectations', () => {
  test('counts each expected deletion once, however often it is observed', () => {
    const e = new UIDTrackingControllerExpectations(new FakeClock());
    e.expectDeletionsOf('ns/rs', ['ns/p1', 'ns/p2']);
    assert.ok(!e.satisfiedExpectations('ns/rs'));
    e.deletionObservedOf('ns/rs', 'ns/p1');
    e.deletionObservedOf('ns/rs', 'ns/p1');
    e.deletionObservedOf('ns/rs', 'ns/other');
    assert.equal(e.getExpectations('ns/rs')?.del, 1);
    assert.deepEqual([...e.getUIDs('ns/rs')!], ['ns/p2']);
    e.deletionObservedOf('ns/rs', 'ns/p2');
    assert.ok(e.satisfiedExpectations('ns/rs'));
    e.deleteExpectations('ns/rs');
    assert.equal(e.getUIDs('ns/rs'), undefined);
  });
});
