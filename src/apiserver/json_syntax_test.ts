// Go's encoding/json syntax errors, reproduced for malformed request bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJsonSyntaxError, jsonNestingDepth, summarizeBody } from './json_syntax.ts';

function err(text: string): string | undefined {
  return goJsonSyntaxError(Buffer.from(text));
}

test('valid JSON has no syntax error', () => {
  for (const ok of ['{}', '[]', ' {"a":[1,-2.5e+3,true,false,null,"x\\u00e9\\n"]} ', '12', '0', '"s"', '[{}]', '1E5']) {
    assert.equal(err(ok), undefined, ok);
  }
});

test('malformed JSON gets the message Go gives', () => {
  const cases: Array<[string, string]> = [
    ['{not json', "invalid character 'n' looking for beginning of object key string"],
    ['', 'unexpected end of JSON input'],
    ['{"a":1', 'unexpected end of JSON input'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', `invalid character '"' after object key:value pair`],
    ['[1 2]', "invalid character '2' after array element"],
    ['{} {}', "invalid character '{' after top-level value"],
    ['"a\tb"', "invalid character '\\t' in string literal"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['-a', "invalid character 'a' in numeric literal"],
    ['1.e5', "invalid character 'e' after decimal point in numeric literal"],
    ['1e+', "invalid character ' ' in exponent of numeric literal"],
    ['"abc', 'unexpected end of JSON input'],
    ['-', "invalid character ' ' in numeric literal"],
    ['1ex', "invalid character 'x' in exponent of numeric literal"],
    ['tru', "invalid character ' ' in literal true (expecting 'e')"],
    ['trux', "invalid character 'x' in literal true (expecting 'e')"],
    ['nul1', "invalid character '1' in literal null (expecting 'l')"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a":\u0000}', "invalid character '\\x00' looking for beginning of value"],
    ['[01]', "invalid character '1' after array element"],
  ];
  for (const [text, want] of cases) assert.equal(err(text), want, text);
  assert.equal(goJsonSyntaxError(Buffer.from([0x7b, 0xc3, 0xa9])), "invalid character 'Ã' looking for beginning of object key string");
});

test('nesting past Go\'s limit is refused', () => {
  assert.equal(err('['.repeat(10000) + ']'.repeat(10000)), undefined);
  assert.equal(err('['.repeat(10001) + ']'.repeat(10001)), "invalid character '[' exceeded max depth");
  assert.equal(jsonNestingDepth('{"a":"[[[","b":[[{}]]}'), 4);
});

test('body summaries are text for objects and hex otherwise', () => {
  assert.equal(summarizeBody(Buffer.from('{not json')), '{not json');
  assert.equal(summarizeBody(Buffer.from('{' + 'a'.repeat(40))), '{' + 'a'.repeat(29) + ' ...');
  assert.equal(summarizeBody(Buffer.from('[1,2]')), '5b312c325d');
  assert.equal(summarizeBody(Buffer.alloc(0)), '<empty>');
});
