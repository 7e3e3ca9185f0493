// Go-style formatting of event messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sprintf } from './sprintf.ts';

test('sprintf formats the verbs event messages use', () => {
  assert.equal(sprintf('Created pod: %v', 'web-1'), 'Created pod: web-1');
  assert.equal(sprintf('Scaled up replica set %s to %d', 'web-abc', 3), 'Scaled up replica set web-abc to 3');
  assert.equal(sprintf('%q and %t and 100%%', 'x"y', true), '"x\\"y" and true and 100%');
  assert.equal(sprintf('Error: %v', new Error('boom')), 'Error: boom');
  assert.equal(sprintf('%v', ['a', 'b']), '[a b]');
  assert.equal(sprintf('%.1f', 2.26), '2.3');
  assert.equal(sprintf('%x', 255), 'ff');
  assert.equal(sprintf('%d', 'x'), '%!d(x)');
  assert.equal(sprintf('%s %s', 'only'), 'only %!s(MISSING)');
  assert.equal(sprintf('no verbs', 1), 'no verbs%!(EXTRA 1)');
});
