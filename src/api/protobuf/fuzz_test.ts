// Fuzzing the decoder: random bytes, every truncation and random mutations of captured kubectl
// bodies, and random well-typed messages built from the schema. Every outcome must be a JSON-printable
// object or a ProtobufDecodeError, quickly; a seeded generator makes failures reproducible.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs/minimal.js';
import { decodeKubernetesProtobuf, protobufMagic } from './decode.ts';
import { ProtobufDecodeError } from './errors.ts';
import { messageSpec, type ValueType } from './schema.ts';

const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));
const fixtures = readdirSync(testdata).filter((f) => f.endsWith('.pb')).map((f) => readFileSync(`${testdata}${f}`));

/** mulberry32: small, seeded, good enough to spread inputs. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decodes and checks the outcome; returns whether it decoded. */
function check(input: Uint8Array, label: string): boolean {
  const started = performance.now();
  let ok = false;
  try {
    const { object } = decodeKubernetesProtobuf(input);
    assert.equal(typeof JSON.stringify(object), 'string', label);
    ok = true;
  } catch (err) {
    if (!(err instanceof ProtobufDecodeError)) {
      assert.fail(`${label}: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)} on ${Buffer.from(input).toString('hex')}`);
    }
  }
  assert.ok(performance.now() - started < 1000, `${label}: took too long`);
  return ok;
}

function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

const kinds: Array<[string, string, string]> = [
  ['v1', 'Pod', 'core.v1.Pod'], ['v1', 'Service', 'core.v1.Service'], ['v1', 'Secret', 'core.v1.Secret'],
  ['v1', 'PersistentVolume', 'core.v1.PersistentVolume'], ['v1', 'Event', 'core.v1.Event'],
  ['apps/v1', 'Deployment', 'apps.v1.Deployment'], ['apps/v1', 'ControllerRevision', 'apps.v1.ControllerRevision'],
  ['batch/v1', 'CronJob', 'batch.v1.CronJob'], ['autoscaling/v2', 'HorizontalPodAutoscaler', 'autoscaling.v2.HorizontalPodAutoscaler'],
  ['authorization.k8s.io/v1', 'SubjectAccessReview', 'authorization.v1.SubjectAccessReview'],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'apiextensions.v1.CustomResourceDefinition'],
  ['events.k8s.io/v1', 'Event', 'events.v1.Event'], ['apps/v1', 'DeleteOptions', 'meta.v1.DeleteOptions'],
];

/** Writes a random but well-typed message of `name` (values may still be invalid for their type). */
function writeRandom(w: protobuf.Writer, name: string, next: () => number, depth: number): void {
  const spec = messageSpec(name);
  for (const f of spec.fields) {
    if (next() < (depth > 3 ? 0.85 : 0.5)) continue;
    const count = f.repeated || f.map ? 1 + Math.floor(next() * 3) : 1;
    for (let i = 0; i < count; i++) {
      if (f.map) {
        w.uint32((f.number << 3) | 2).fork();
        w.uint32(10).string(`k${Math.floor(next() * 4)}`);
        writeValue(w, 2, f.value, next, depth);
        w.ldelim();
      } else {
        writeValue(w, f.number, f.value, next, depth);
      }
    }
  }
}

function writeValue(w: protobuf.Writer, no: number, t: ValueType, next: () => number, depth: number): void {
  if ('message' in t) {
    w.uint32((no << 3) | 2).fork();
    if (depth < 6) writeRandom(w, t.message, next, depth + 1);
    if (t.message === 'runtime.RawExtension' || t.message === 'apiextensions.v1.JSON' || t.message === 'meta.v1.FieldsV1') {
      const samples = ['{"a":1}', '[1,2]', '"s"', 'null', '{bad', ''];
      w.uint32(10).string(samples[Math.floor(next() * samples.length)]);
    }
    w.ldelim();
    return;
  }
  switch (t.scalar) {
    case 'string':
    case 'bytes': {
      const samples = ['', 'a', '1Gi', '500m', 'x y', '\u00e9', '-1', '1e3'];
      w.uint32((no << 3) | 2).string(samples[Math.floor(next() * samples.length)]);
      return;
    }
    case 'double':
      w.uint32((no << 3) | 1).double((next() - 0.5) * 1e6);
      return;
    default: {
      const samples = [0, 1, -1, 2, 1704164645, 2 ** 31 - 1, -(2 ** 31), 1e15];
      w.uint32(no << 3).int64(samples[Math.floor(next() * samples.length)]);
    }
  }
}

function envelope(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(10).fork().uint32(10).string(apiVersion).uint32(18).string(kind).ldelim();
  w.uint32(18).bytes(raw);
  return Buffer.concat([protobufMagic, w.finish()]);
}

describe('protobuf decoder fuzzing', () => {
  test('random bytes, with and without the prefix, never escape as other errors', () => {
    const next = rng(1);
    for (let i = 0; i < 1500; i++) {
      const tail = randomBytes(next, Math.floor(next() * 160));
      check(i % 5 === 0 ? tail : Buffer.concat([protobufMagic, tail]), `random #${i}`);
    }
  });

  test('every truncation of every captured body decodes or is refused cleanly', () => {
    assert.ok(fixtures.length > 0);
    for (const body of fixtures) {
      for (let n = 0; n < body.length; n++) check(body.subarray(0, n), `truncated to ${n}`);
    }
  });

  test('random mutations of captured bodies decode or are refused cleanly', () => {
    const next = rng(2);
    let decoded = 0;
    for (let i = 0; i < 3000; i++) {
      const body = Buffer.from(fixtures[i % fixtures.length]);
      const edits = 1 + Math.floor(next() * 4);
      let b: Uint8Array = body;
      for (let e = 0; e < edits; e++) {
        const at = protobufMagic.length + Math.floor(next() * (b.length - protobufMagic.length));
        const r = next();
        if (r < 0.5) b[at] = Math.floor(next() * 256);
        else if (r < 0.75) b = Buffer.concat([b.subarray(0, at), randomBytes(next, 1 + Math.floor(next() * 4)), b.subarray(at)]);
        else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
      }
      if (check(b, `mutation #${i}`)) decoded++;
    }
    assert.ok(decoded > 0, 'no mutation decoded: the test is not reaching the object decoder');
  });

  test('random well-typed messages of many kinds decode or are refused cleanly', () => {
    const next = rng(3);
    let decoded = 0;
    for (let i = 0; i < 1500; i++) {
      const [apiVersion, kind, message] = kinds[i % kinds.length];
      const w = protobuf.Writer.create();
      writeRandom(w, message, next, 0);
      if (check(envelope(apiVersion, kind, w.finish()), `${kind} #${i}`)) decoded++;
    }
    assert.ok(decoded > 300, `only ${decoded} decoded`);
  });
});
