// Checks the AGE formatting against apimachinery's duration thresholds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, shortHumanDuration } from './duration.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

describe('humanDuration', () => {
  const cases: [number, string][] = [
    [-2 * S, '<invalid>'],
    [-1999, '0s'],
    [-1 * S, '0s'],
    [0, '0s'],
    [999, '0s'],
    [5 * S, '5s'],
    [119 * S + 999, '119s'],
    [2 * M, '2m'],
    [3 * M + 20 * S, '3m20s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M + 30 * S, '10m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [3 * H + 30 * M, '3h30m'],
    [7 * H + 59 * M, '7h59m'],
    [8 * H + 30 * M, '8h'],
    [47 * H + 59 * M, '47h'],
    [2 * D, '2d'],
    [2 * D + 5 * H, '2d5h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D + 5 * H, '8d'],
    [10 * D, '10d'],
    [729 * D, '729d'],
    [2 * Y, '2y'],
    [2 * Y + 30 * D, '2y30d'],
    [7 * Y + 364 * D, '7y364d'],
    [8 * Y + 100 * D, '8y'],
    [20 * Y, '20y'],
  ];
  for (const [ms, want] of cases) {
    test(`${ms}ms reads ${want}`, () => assert.equal(humanDuration(ms), want));
  }
});

describe('shortHumanDuration', () => {
  const cases: [number, string][] = [
    [-3 * S, '<invalid>'],
    [-1 * S, '0s'],
    [59 * S, '59s'],
    [60 * S, '1m'],
    [59 * M + 59 * S, '59m'],
    [H, '1h'],
    [23 * H + 59 * M, '23h'],
    [D, '1d'],
    [364 * D, '364d'],
    [Y, '1y'],
    [3 * Y + 200 * D, '3y'],
  ];
  for (const [ms, want] of cases) {
    test(`${ms}ms reads ${want}`, () => assert.equal(shortHumanDuration(ms), want));
  }
});
