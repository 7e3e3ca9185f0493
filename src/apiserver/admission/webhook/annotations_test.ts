// Unit tests of the webhook audit annotations' encoding: a JSON patch re-encoded as Go writes a
// decoded jsonpatch.Patch (sorted operation keys, raw values compacted, HTML characters escaped).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeJSONPatch } from './annotations.ts';

describe('encodeJSONPatch', () => {
  test('sorts each operation\'s keys and compacts its values as written', () => {
    const text = ' [ {"value": {"b": 1.50, "a" : [ 1, 2 ]}, "path":"/spec", "op": "add"},\n{"op":"remove","path":"/x"} ] ';
    assert.equal(encodeJSONPatch(text), '[{"op":"add","path":"/spec","value":{"b":1.50,"a":[1,2]}},{"op":"remove","path":"/x"}]');
  });

  test('escapes HTML characters inside strings and keeps other escapes; the last duplicate key wins', () => {
    const text = '[{"op":"add","path":"/a","value":"<b> & \\"c\\" \\u00e9 \u2028 x y","path":"/z"}]';
    assert.equal(encodeJSONPatch(text), '[{"op":"add","path":"/z","value":"\\u003cb\\u003e \\u0026 \\"c\\" \\u00e9 \\u2028 x y"}]');
  });

  test('anything but a list of objects is refused', () => {
    assert.throws(() => encodeJSONPatch('[1]'), /expected an operation object/);
    assert.throws(() => encodeJSONPatch('[{1:2}]'), /expected an operation's key/);
  });

  test('an empty patch and nulls', () => {
    assert.equal(encodeJSONPatch('[]'), '[]');
    assert.equal(encodeJSONPatch('[{"op":"add","path":"/a","value":null}]'), '[{"op":"add","path":"/a","value":null}]');
  });
});
