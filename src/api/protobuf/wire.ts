// First decoding step: protobuf wire bytes -> a raw field tree keyed by field number, guided by the
// schema. protobufjs's Reader does the varint/length work; this file only walks fields, checks wire
// types, keeps presence (Go prints absent pointers differently from zero values) and merges repeats.
import protobuf from 'protobufjs/minimal.js';
import { ProtobufDecodeError, ProtobufErrorCode } from './errors.ts';
import { messageSpec, type FieldSpec, type MessageSpec, type ScalarType, type ValueType } from './schema.ts';

/** A decoded scalar: int64 stays a bigint until printing (durations need all 64 bits). */
export type RawScalar = string | boolean | number | bigint | Uint8Array;
/** A decoded message: field number -> value (a list for repeated fields, a Map for map fields). */
export type RawMessage = Map<number, RawField>;
export type RawValue = RawScalar | RawMessage;
/** Map values absent on the wire are `undefined` (Go gives them the zero value). */
export type RawField = RawValue | RawValue[] | Map<string, RawValue | undefined>;

type Reader = protobuf.Reader;

/** Deep enough for any real object (CRD schemas included), shallow enough for the JS stack. */
const maxDepth = 200;

const WireType = { Varint: 0, Fixed64: 1, Bytes: 2, EndGroup: 4 } as const;

function malformed(message: string): ProtobufDecodeError {
  return new ProtobufDecodeError(ProtobufErrorCode.Malformed, message);
}

function wireTypeOf(v: ValueType): number {
  if ('message' in v) return WireType.Bytes;
  switch (v.scalar) {
    case 'string':
    case 'bytes':
      return WireType.Bytes;
    case 'double':
      return WireType.Fixed64;
    default:
      return WireType.Varint;
  }
}

function int64(r: Reader): bigint {
  const v: unknown = r.int64();
  if (typeof v === 'number') return BigInt(v);
  const { low, high } = v as { low: number; high: number };
  return BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0));
}

function readScalar(r: Reader, t: ScalarType): RawScalar {
  switch (t) {
    case 'string':
      return r.string();
    case 'bytes':
      // Copy: the reader's slice aliases the request body.
      return Uint8Array.prototype.slice.call(r.bytes());
    case 'bool':
      return r.bool();
    case 'int32':
      return r.int32();
    case 'int64':
      return int64(r);
    case 'double':
      return r.double();
  }
}

function readValue(r: Reader, v: ValueType, depth: number): RawValue {
  if ('scalar' in v) return readScalar(r, v.scalar);
  const msg = new Map<number, RawField>();
  readMessageInto(r, r.size(), messageSpec(v.message), msg, depth + 1);
  return msg;
}

/** Later occurrences of a singular message field merge into the earlier one, as proto2 says. */
function mergeMessage(into: RawMessage, from: RawMessage, spec: MessageSpec): void {
  for (const [no, v] of from) {
    const f = spec.byNumber.get(no);
    const old = into.get(no);
    if (f === undefined || old === undefined) into.set(no, v);
    else if (f.repeated) for (const item of v as RawValue[]) (old as RawValue[]).push(item);
    else if (f.map) for (const [k, mv] of v as Map<string, RawValue | undefined>) (old as Map<string, RawValue | undefined>).set(k, mv);
    else if ('message' in f.value) mergeMessage(old as RawMessage, v as RawMessage, messageSpec(f.value.message));
    else into.set(no, v);
  }
}

function readMapEntry(r: Reader, f: FieldSpec, spec: MessageSpec, into: RawMessage, depth: number): void {
  const length = r.size();
  const end = r.pos + length;
  if (end > r.len) throw malformed('unexpected EOF');
  const saved = r.len;
  r.len = end;
  let key = '';
  let value: RawValue | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 0) throw malformed(`proto: ${spec.name}: illegal tag 0 (wire type ${wt})`);
    if (no === 1) {
      if (wt !== WireType.Bytes) throw malformed(`proto: wrong wireType = ${wt} for field ${f.json} key`);
      key = r.string();
    } else if (no === 2) {
      const want = wireTypeOf(f.value);
      if (wt !== want) throw malformed(`proto: wrong wireType = ${wt} for field ${f.json} value`);
      const v = readValue(r, f.value, depth);
      if (value instanceof Map && v instanceof Map && 'message' in f.value) mergeMessage(value, v, messageSpec(f.value.message));
      else value = v;
    } else {
      skip(r, wt, no);
    }
  }
  r.len = saved;
  let m = into.get(f.number);
  if (!(m instanceof Map)) {
    m = new Map<string, RawValue | undefined>();
    into.set(f.number, m);
  }
  (m as Map<string, RawValue | undefined>).set(key, value);
}

function skip(r: Reader, wt: number, no: number): void {
  if (wt === WireType.EndGroup) throw malformed('proto: wiretype end group for non-group');
  r.skipType(wt, 0, no);
}

/** Reads `length` bytes at the reader's position as one message of `spec` into `into`. */
function readMessageInto(r: Reader, length: number, spec: MessageSpec, into: RawMessage, depth: number): void {
  if (depth > maxDepth) throw malformed('proto: max depth exceeded');
  const end = r.pos + length;
  if (end > r.len) throw malformed('unexpected EOF');
  // Confine every read to this message, as the library does for packed fields.
  const saved = r.len;
  r.len = end;
  while (r.pos < end) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 0) throw malformed(`proto: ${spec.name}: illegal tag 0 (wire type ${wt})`);
    const f = spec.byNumber.get(no);
    if (f === undefined) {
      skip(r, wt, no);
      continue;
    }
    if (f.map) {
      if (wt !== WireType.Bytes) throw malformed(`proto: wrong wireType = ${wt} for field ${f.json}`);
      readMapEntry(r, f, spec, into, depth);
      continue;
    }
    const want = wireTypeOf(f.value);
    if (f.repeated && wt === WireType.Bytes && want !== WireType.Bytes) {
      // Packed repeated scalars: Go writes them unpacked for proto2, but both are valid.
      const list = listOf(into, f.number);
      const packedLength = r.size();
      const packedEnd = r.pos + packedLength;
      if (packedEnd > r.len) throw malformed('unexpected EOF');
      const outer = r.len;
      r.len = packedEnd;
      while (r.pos < packedEnd) list.push(readValue(r, f.value, depth));
      r.len = outer;
      continue;
    }
    if (wt !== want) throw malformed(`proto: wrong wireType = ${wt} for field ${f.json || spec.name}`);
    const v = readValue(r, f.value, depth);
    if (f.repeated) listOf(into, f.number).push(v);
    else {
      const old = into.get(no);
      if (old instanceof Map && v instanceof Map && 'message' in f.value) mergeMessage(old as RawMessage, v, messageSpec(f.value.message));
      else into.set(no, v);
    }
  }
  r.len = saved;
}

function listOf(into: RawMessage, no: number): RawValue[] {
  let list = into.get(no);
  if (!Array.isArray(list)) {
    list = [];
    into.set(no, list);
  }
  return list;
}

/** Decodes a whole buffer as one message of `messageName`. */
export function readMessage(bytes: Uint8Array, messageName: string): RawMessage {
  const r = protobuf.Reader.create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const msg: RawMessage = new Map();
  try {
    readMessageInto(r, bytes.byteLength, messageSpec(messageName), msg, 0);
  } catch (err) {
    if (err instanceof ProtobufDecodeError) throw err;
    // The library throws RangeError("index out of range …") on truncation and Error for bad varints.
    const text = err instanceof Error ? err.message : String(err);
    throw malformed(text.startsWith('index out of range') ? 'unexpected EOF' : `proto: ${text}`);
  }
  return msg;
}
