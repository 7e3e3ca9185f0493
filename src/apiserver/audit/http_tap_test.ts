// The request-body tap sees the body however the handler reads it: data events (readBody) or iteration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { tapRequestBody } from './http_tap.ts';

function request(chunks: string[]): Readable & { headers: Record<string, string> } {
  return Object.assign(Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false }), { headers: { 'content-type': 'application/json' } });
}

test('a body read through data events is captured whole', async () => {
  const req = request(['{"a":', '1}']);
  const body = tapRequestBody(req)!;
  const seen: Buffer[] = [];
  await new Promise<void>((resolve) => {
    req.on('data', (c: Buffer) => seen.push(c));
    req.on('end', () => resolve());
  });
  assert.equal(Buffer.concat(seen).toString(), '{"a":1}');
  assert.equal(Buffer.concat(body.chunks).toString(), '{"a":1}');
  assert.equal(body.complete, true);
  assert.equal(body.contentType, 'application/json');
});

test('a body read by iteration is captured whole', async () => {
  const req = request(['{"b":', '2}']);
  const body = tapRequestBody(req)!;
  const seen: Buffer[] = [];
  for await (const c of req) seen.push(c as Buffer);
  assert.equal(Buffer.concat(seen).toString(), '{"b":2}');
  assert.equal(Buffer.concat(body.chunks).toString(), '{"b":2}');
  assert.equal(body.complete, true);
});
