// Second decoding step: the raw field tree -> the JSON object upstream's Go JSON encoder would print
// for the same Go struct. Go rules reproduced: omitempty drops zero scalars and empty lists/maps but
// never structs; nil pointers/slices/maps without omitempty print null; map keys are sorted; types
// with their own MarshalJSON (Time, Quantity, IntOrString, RawExtension …) print their JSON form.
import { compareGoStrings } from '../go_strings.ts';
import { ProtobufDecodeError, ProtobufErrorCode } from './errors.ts';
import { formatGoDuration, formatRfc3339, goZeroTimeSeconds } from './go_format.ts';
import { messageSpec, type MessageSpec, type ScalarType, type ValueType } from './schema.ts';
import type { RawField, RawMessage, RawScalar, RawValue } from './wire.ts';

/** What the printer needs from its caller. */
export interface GoJsonContext {
  /** Decodes a RawExtension whose bytes are themselves a `k8s\0` protobuf object. */
  decodeEmbedded(bytes: Uint8Array): unknown;
}

type Special = (raw: RawMessage | undefined, ctx: GoJsonContext) => unknown;

const utf8 = new TextDecoder();
const magic = [0x6b, 0x38, 0x73, 0x00];
// The form resource.ParseQuantity accepts at all; the value itself is checked where JSON bodies are.
const quantityForm = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

function malformed(message: string): ProtobufDecodeError {
  return new ProtobufDecodeError(ProtobufErrorCode.Malformed, message);
}

function int64Field(raw: RawMessage | undefined, no: number): bigint {
  const v = raw?.get(no);
  return typeof v === 'bigint' ? v : 0n;
}

function parseRawJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw malformed(`${what}: ${(err as Error).message}`);
  }
}

function rawBytes(raw: RawMessage | undefined): Uint8Array | undefined {
  const v = raw?.get(1);
  return v instanceof Uint8Array && v.length > 0 ? v : undefined;
}

/** Types whose Go JSON form is not their struct's fields. */
const specials: Record<string, Special> = {
  'meta.v1.Time'(raw) {
    // Time.Unmarshal: no bytes is the zero time; nanos are dropped (seconds precision on the wire).
    if (raw === undefined || raw.size === 0) return null;
    const seconds = int64Field(raw, 1);
    if (seconds === goZeroTimeSeconds) return null;
    const text = formatRfc3339(seconds);
    if (text === undefined) throw malformed(`Time.MarshalJSON: year outside of range [0,9999]`);
    return text;
  },
  'meta.v1.MicroTime'(raw) {
    if (raw === undefined || raw.size === 0) return null;
    const nanos = raw.get(2);
    // MicroTime.Unmarshal truncates to microseconds, then time.Unix normalises nanos into seconds.
    const truncated = typeof nanos === 'number' ? nanos - (nanos % 1000) : 0;
    const carry = Math.floor(truncated / 1e9);
    const seconds = int64Field(raw, 1) + BigInt(carry);
    const micros = (truncated - carry * 1e9) / 1000;
    if (seconds === goZeroTimeSeconds && micros === 0) return null;
    const text = formatRfc3339(seconds, micros);
    if (text === undefined) throw malformed(`MicroTime.MarshalJSON: year outside of range [0,9999]`);
    return text;
  },
  'meta.v1.Duration'(raw) {
    return formatGoDuration(int64Field(raw, 1));
  },
  'resource.Quantity'(raw) {
    const s = raw?.get(1);
    if (typeof s !== 'string') return '0';
    if (!quantityForm.test(s)) throw malformed(`quantities must match the regular expression '${quantityForm.source}'`);
    return s;
  },
  'intstr.IntOrString'(raw) {
    const type = int64Field(raw, 1);
    if (type === 0n) return raw?.get(2) ?? 0;
    if (type === 1n) return raw?.get(3) ?? '';
    throw malformed('impossible IntOrString.Type');
  },
  'meta.v1.FieldsV1'(raw) {
    const bytes = rawBytes(raw);
    return bytes === undefined ? null : parseRawJson(bytes, 'metav1.FieldsV1');
  },
  'runtime.RawExtension'(raw, ctx) {
    const bytes = rawBytes(raw);
    if (bytes === undefined) return null;
    if (bytes.length >= 4 && magic.every((b, i) => bytes[i] === b)) return ctx.decodeEmbedded(bytes);
    return parseRawJson(bytes, 'runtime.RawExtension');
  },
  'apiextensions.v1.JSON'(raw) {
    const bytes = rawBytes(raw);
    return bytes === undefined ? null : parseRawJson(bytes, 'apiextensions.v1.JSON');
  },
  'apiextensions.v1.JSONSchemaPropsOrArray'(raw, ctx) {
    const props = messageSpec('apiextensions.v1.JSONSchemaProps');
    const list = raw?.get(2);
    if (Array.isArray(list)) return list.map((v) => messageToJson(props, v as RawMessage, ctx));
    const schema = raw?.get(1);
    return schema === undefined ? null : messageToJson(props, schema as RawMessage, ctx);
  },
  'apiextensions.v1.JSONSchemaPropsOrBool'(raw, ctx) {
    const schema = raw?.get(2);
    if (schema !== undefined) return messageToJson(messageSpec('apiextensions.v1.JSONSchemaProps'), schema as RawMessage, ctx);
    return raw?.get(1) === true;
  },
  'apiextensions.v1.JSONSchemaPropsOrStringArray'(raw, ctx) {
    const list = raw?.get(2);
    if (Array.isArray(list)) return list;
    const schema = raw?.get(1);
    return schema === undefined ? null : messageToJson(messageSpec('apiextensions.v1.JSONSchemaProps'), schema as RawMessage, ctx);
  },
};

function zeroScalar(t: ScalarType): unknown {
  switch (t) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'bytes':
      return null; // a nil []byte
    default:
      return 0;
  }
}

function isZeroScalar(v: RawScalar): boolean {
  if (v instanceof Uint8Array) return v.length === 0;
  return v === '' || v === false || v === 0 || v === 0n;
}

function scalarToJson(v: RawScalar): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (typeof v === 'number' && !Number.isFinite(v)) throw malformed(`json: unsupported value: ${v}`);
  return v;
}

function valueToJson(t: ValueType, v: RawValue | undefined, ctx: GoJsonContext): unknown {
  if ('scalar' in t) return v === undefined ? zeroScalar(t.scalar) : scalarToJson(v as RawScalar);
  return messageToJson(messageSpec(t.message), v as RawMessage | undefined, ctx);
}

function mapToJson(t: ValueType, m: Map<string, RawValue | undefined>, ctx: GoJsonContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of [...m.keys()].sort(compareGoStrings)) out[k] = valueToJson(t, m.get(k), ctx);
  return out;
}

/** Writes the fields of `spec` into `out`; inlined structs write into the same object. */
function writeFields(spec: MessageSpec, raw: RawMessage | undefined, out: Record<string, unknown>, ctx: GoJsonContext): void {
  for (const f of spec.fields) {
    const v: RawField | undefined = raw?.get(f.number);
    if (f.json === '') {
      if (v === undefined && f.pointer) continue;
      if ('message' in f.value) writeFields(messageSpec(f.value.message), v as RawMessage | undefined, out, ctx);
      continue;
    }
    if (v === undefined) {
      // Absent on the wire: Go holds the zero value (nil for pointers, slices and maps).
      const inner = 'message' in f.value ? messageSpec(f.value.message) : undefined;
      const nilable = f.pointer || f.repeated || f.map || inner?.wrapper === true;
      if (f.omitempty && (nilable || inner === undefined)) continue;
      if (nilable) out[f.json] = null;
      else if ('scalar' in f.value) out[f.json] = zeroScalar(f.value.scalar);
      else out[f.json] = messageToJson(inner as MessageSpec, undefined, ctx);
      continue;
    }
    if (f.repeated) out[f.json] = (v as RawValue[]).map((item) => valueToJson(f.value, item, ctx));
    else if (f.map) out[f.json] = mapToJson(f.value, v as Map<string, RawValue | undefined>, ctx);
    else if ('scalar' in f.value) {
      if (f.omitempty && !f.pointer && isZeroScalar(v as RawScalar)) continue;
      out[f.json] = scalarToJson(v as RawScalar);
    } else {
      const inner = messageSpec(f.value.message);
      const json = messageToJson(inner, v as RawMessage, ctx);
      if (f.omitempty && inner.wrapper && json === null) continue;
      out[f.json] = json;
    }
  }
}

/** The Go JSON form of one message; `raw` undefined means the Go zero value of the struct. */
export function messageToJson(spec: MessageSpec, raw: RawMessage | undefined, ctx: GoJsonContext): unknown {
  const special = Object.hasOwn(specials, spec.name) ? specials[spec.name] : undefined;
  if (special !== undefined) return special(raw, ctx);
  if (spec.wrapper) {
    const items = raw?.get(1);
    return Array.isArray(items) ? items.map((v) => scalarToJson(v as RawScalar)) : null;
  }
  const out: Record<string, unknown> = {};
  writeFields(spec, raw, out, ctx);
  return out;
}
