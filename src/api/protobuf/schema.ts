// The wire schema of the built-in types, read from schema.json (field numbers and types of upstream's
// generated.proto, JSON names/omitempty/pointer-ness of the Go structs) and compiled on first use
// into lookup tables for the decoder.
import schemaData from './schema.json' with { type: 'json' };

/** Scalar protobuf types that occur in the built-in types. */
export type ScalarType = 'string' | 'bytes' | 'bool' | 'int32' | 'int64' | 'double';

/** The type of a field or of a map value: a scalar or a message (short name, e.g. "core.v1.Pod"). */
export type ValueType = { readonly scalar: ScalarType } | { readonly message: string };

/** One field of a message, in Go struct order. */
export interface FieldSpec {
  readonly number: number;
  /** JSON name; "" when Go inlines the struct into its parent (`json:",inline"`). */
  readonly json: string;
  readonly repeated: boolean;
  /** Go `omitempty`. */
  readonly omitempty: boolean;
  /** The Go field is a pointer: absent means nil, a present zero value is printed. */
  readonly pointer: boolean;
  readonly value: ValueType;
  /** Set for map<string, V> fields (the key is always a string in the built-in types). */
  readonly map: boolean;
}

/** A compiled message. */
export interface MessageSpec {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
  readonly byNumber: ReadonlyMap<number, FieldSpec>;
  /** A Go named slice (`type ExtraValue []string`) that protobuf wraps as `{repeated items = 1}`. */
  readonly wrapper: boolean;
}

type Row = readonly [number, string, string, string];
interface SchemaFile {
  groupVersions: Record<string, { package: string; kinds: string[] }>;
  wrappers: string[];
  messages: Record<string, Row[]>;
}

const schema = schemaData as unknown as SchemaFile;
const scalars: ReadonlySet<string> = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'double']);
const wrappers: ReadonlySet<string> = new Set(schema.wrappers);
const compiled = new Map<string, MessageSpec>();
let kindIndex: Map<string, string> | undefined;

function valueType(t: string, where: string): ValueType {
  if (scalars.has(t)) return { scalar: t as ScalarType };
  if (!Object.hasOwn(schema.messages, t)) throw new Error(`protobuf schema: ${where} refers to unknown message ${t}`);
  return { message: t };
}

function compile(name: string): MessageSpec {
  const rows = schema.messages[name];
  const fields: FieldSpec[] = rows.map(([number, json, type, flags]) => {
    const where = `${name}.${json || number}`;
    const m = /^map<string,(.+)>$/.exec(type);
    return {
      number,
      json,
      repeated: flags.includes('r'),
      omitempty: flags.includes('o'),
      pointer: flags.includes('p'),
      value: valueType(m ? m[1] : type, where),
      map: m !== null,
    };
  });
  return { name, fields, byNumber: new Map(fields.map((f) => [f.number, f])), wrapper: wrappers.has(name) };
}

/** True when the schema has this message. */
export function hasMessage(name: string): boolean {
  return Object.hasOwn(schema.messages, name);
}

/** The compiled message; throws for names not in the schema (a bug, not bad input). */
export function messageSpec(name: string): MessageSpec {
  let spec = compiled.get(name);
  if (spec === undefined) {
    if (!hasMessage(name)) throw new Error(`protobuf schema: unknown message ${name}`);
    spec = compile(name);
    compiled.set(name, spec);
  }
  return spec;
}

/** Every message name in the schema. */
export function messageNames(): string[] {
  return Object.keys(schema.messages);
}

/** The message that encodes apiVersion/kind, or undefined when it is not a built-in kind we serve. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  if (kindIndex === undefined) {
    kindIndex = new Map();
    for (const [gv, { package: pkg, kinds }] of Object.entries(schema.groupVersions)) {
      for (const k of kinds) {
        // Qualified entries are meta.k8s.io types every group version registers (DeleteOptions …).
        const qualified = k.includes('.');
        kindIndex.set(`${gv}\u0000${qualified ? k.slice(k.lastIndexOf('.') + 1) : k}`, qualified ? k : `${pkg}.${k}`);
      }
    }
  }
  return kindIndex.get(`${apiVersion}\u0000${kind}`);
}
