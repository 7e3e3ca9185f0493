import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { firstSubnet, parseNodeLabels, parseNodeTaints } from './agent.ts';

describe('agent helpers', () => {
  test('the fallback pod CIDR is the first /24 of the cluster CIDR', () => {
    assert.equal(firstSubnet('10.42.0.0/16'), '10.42.0.0/24');
    assert.equal(firstSubnet('10.42.7.9/16'), '10.42.0.0/24');
    assert.equal(firstSubnet('192.168.5.0/26'), '192.168.5.0/26');
    assert.throws(() => firstSubnet('fd00::/64'), /IPv4 CIDR/);
  });

  test('--node-labels take key=value entries, repeated or comma-separated', () => {
    assert.deepEqual(parseNodeLabels(['a=1,b=2', 'c=', 'zone/x=y']), { a: '1', b: '2', c: '', 'zone/x': 'y' });
    assert.throws(() => parseNodeLabels(['novalue']), /--node-labels: want key=value, got "novalue"/);
  });

  test('--node-taints take key[=value]:Effect entries', () => {
    assert.deepEqual(parseNodeTaints(['dedicated=gpu:NoSchedule', 'spot:PreferNoSchedule,x=y:NoExecute']), [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'spot', effect: 'PreferNoSchedule' },
      { key: 'x', value: 'y', effect: 'NoExecute' },
    ]);
    assert.throws(() => parseNodeTaints(['a=b:Sometimes']), /--node-taints/);
    assert.throws(() => parseNodeTaints(['=b:NoSchedule']), /empty key/);
  });
});
