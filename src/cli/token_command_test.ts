// The `tkube token` helpers that need no server: Go durations for --ttl.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from './token_command.ts';

describe('tkube token --ttl', () => {
  test('Go durations parse; nonsense is refused naming the flag', () => {
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('0'), 0);
    for (const bad of ['soon', '', '10', '1d', 'h1']) assert.throws(() => parseDuration(bad), /--ttl: invalid duration/);
  });
});
