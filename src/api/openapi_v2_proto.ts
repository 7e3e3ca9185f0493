// Encodes an OpenAPI v2 (Swagger) JSON document as gnostic's openapi.v2.Document protobuf, the form
// kubectl asks /openapi/v2 for when it validates kinds the v3 documents do not describe (e.g. List).
// Field numbers are gnostic's OpenAPIv2.proto; vendor extensions and defaults travel as YAML text.
import protobuf from 'protobufjs/minimal.js';

type Json = { [key: string]: unknown };
type W = protobuf.Writer;

const LEN = 2;
const VARINT = 0;
const FIXED64 = 1;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(w: W, field: number, v: unknown): void {
  if (typeof v === 'string' && v !== '') w.uint32((field << 3) | LEN).string(v);
}

function strs(w: W, field: number, v: unknown): void {
  if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') w.uint32((field << 3) | LEN).string(s);
}

function bool(w: W, field: number, v: unknown): void {
  if (v === true) w.uint32((field << 3) | VARINT).bool(true);
}

function dbl(w: W, field: number, v: unknown): void {
  if (typeof v === 'number' && v !== 0) w.uint32((field << 3) | FIXED64).double(v);
}

function i64(w: W, field: number, v: unknown): void {
  if (typeof v === 'number' && v !== 0) w.uint32((field << 3) | VARINT).int64(v);
}

function msg(w: W, field: number, fn: (w: W) => void): void {
  w.uint32((field << 3) | LEN).fork();
  fn(w);
  w.ldelim();
}

/** gnostic's Any: the value as YAML (JSON is valid YAML, and cheaper to produce). */
function any(w: W, field: number, v: unknown): void {
  if (v === undefined) return;
  msg(w, field, (a) => str(a, 2, `${JSON.stringify(v)}\n`));
}

function vendorExtensions(w: W, field: number, obj: Json): void {
  for (const [k, v] of Object.entries(obj)) {
    if (!k.startsWith('x-')) continue;
    msg(w, field, (n) => {
      str(n, 1, k);
      any(n, 2, v);
    });
  }
}

function schema(w: W, s: Json): void {
  str(w, 1, s['$ref']);
  str(w, 2, s['format']);
  str(w, 3, s['title']);
  str(w, 4, s['description']);
  any(w, 5, s['default']);
  dbl(w, 6, s['multipleOf']);
  dbl(w, 7, s['maximum']);
  bool(w, 8, s['exclusiveMaximum']);
  dbl(w, 9, s['minimum']);
  bool(w, 10, s['exclusiveMinimum']);
  i64(w, 11, s['maxLength']);
  i64(w, 12, s['minLength']);
  str(w, 13, s['pattern']);
  i64(w, 14, s['maxItems']);
  i64(w, 15, s['minItems']);
  bool(w, 16, s['uniqueItems']);
  i64(w, 17, s['maxProperties']);
  i64(w, 18, s['minProperties']);
  strs(w, 19, s['required']);
  if (Array.isArray(s['enum'])) for (const e of s['enum']) any(w, 20, e);
  const ap = s['additionalProperties'];
  if (isObject(ap)) msg(w, 21, (a) => msg(a, 1, (x) => schema(x, ap)));
  else if (typeof ap === 'boolean') msg(w, 21, (a) => a.uint32((2 << 3) | VARINT).bool(ap));
  const type = s['type'];
  if (typeof type === 'string' || Array.isArray(type)) msg(w, 22, (t) => strs(t, 1, Array.isArray(type) ? type : [type]));
  const items = s['items'];
  if (isObject(items) || Array.isArray(items)) {
    msg(w, 23, (it) => {
      for (const i of Array.isArray(items) ? items : [items]) if (isObject(i)) msg(it, 1, (x) => schema(x, i));
    });
  }
  if (Array.isArray(s['allOf'])) for (const a of s['allOf']) if (isObject(a)) msg(w, 24, (x) => schema(x, a));
  const props = s['properties'];
  if (isObject(props)) {
    msg(w, 25, (p) => {
      for (const [name, v] of Object.entries(props)) {
        if (!isObject(v)) continue;
        msg(p, 1, (n) => {
          str(n, 1, name);
          msg(n, 2, (x) => schema(x, v));
        });
      }
    });
  }
  str(w, 26, s['discriminator']);
  bool(w, 27, s['readOnly']);
  any(w, 30, s['example']);
  vendorExtensions(w, 31, s);
}

function primitivesItems(w: W, s: Json): void {
  str(w, 1, s['type']);
  str(w, 2, s['format']);
  const items = s['items'];
  if (isObject(items)) msg(w, 3, (x) => primitivesItems(x, items));
  str(w, 4, s['collectionFormat']);
  any(w, 5, s['default']);
  vendorExtensions(w, 18, s);
}

/** A non-body parameter: query and formData have allowEmptyValue at 5, which shifts the rest by one. */
function nonBodyParameter(w: W, p: Json): void {
  const where = p['in'];
  const oneof = where === 'header' ? 1 : where === 'formData' ? 2 : where === 'query' ? 3 : 4;
  const shift = oneof === 2 || oneof === 3 ? 1 : 0;
  msg(w, oneof, (x) => {
    bool(x, 1, p['required']);
    str(x, 2, p['in']);
    str(x, 3, p['description']);
    str(x, 4, p['name']);
    if (shift) bool(x, 5, p['allowEmptyValue']);
    str(x, 5 + shift, p['type']);
    str(x, 6 + shift, p['format']);
    const items = p['items'];
    if (isObject(items)) msg(x, 7 + shift, (i) => primitivesItems(i, items));
    str(x, 8 + shift, p['collectionFormat']);
    any(x, 9 + shift, p['default']);
    dbl(x, 10 + shift, p['maximum']);
    bool(x, 11 + shift, p['exclusiveMaximum']);
    dbl(x, 12 + shift, p['minimum']);
    bool(x, 13 + shift, p['exclusiveMinimum']);
    i64(x, 14 + shift, p['maxLength']);
    i64(x, 15 + shift, p['minLength']);
    str(x, 16 + shift, p['pattern']);
    i64(x, 17 + shift, p['maxItems']);
    i64(x, 18 + shift, p['minItems']);
    bool(x, 19 + shift, p['uniqueItems']);
    if (Array.isArray(p['enum'])) for (const e of p['enum']) any(x, 20 + shift, e);
    dbl(x, 21 + shift, p['multipleOf']);
    vendorExtensions(x, 22 + shift, p);
  });
}

function parameter(w: W, p: Json): void {
  if (p['in'] === 'body') {
    msg(w, 1, (b) => {
      str(b, 1, p['description']);
      str(b, 2, p['name']);
      str(b, 3, p['in']);
      bool(b, 4, p['required']);
      const s = p['schema'];
      if (isObject(s)) msg(b, 5, (x) => schema(x, s));
      vendorExtensions(b, 6, p);
    });
  } else {
    msg(w, 2, (nb) => nonBodyParameter(nb, p));
  }
}

function parametersItem(w: W, p: Json): void {
  if (typeof p['$ref'] === 'string') msg(w, 2, (r) => str(r, 1, p['$ref']));
  else msg(w, 1, (x) => parameter(x, p));
}

function operation(w: W, op: Json): void {
  strs(w, 1, op['tags']);
  str(w, 2, op['summary']);
  str(w, 3, op['description']);
  str(w, 5, op['operationId']);
  strs(w, 6, op['produces']);
  strs(w, 7, op['consumes']);
  if (Array.isArray(op['parameters'])) for (const p of op['parameters']) if (isObject(p)) msg(w, 8, (x) => parametersItem(x, p));
  const responses = op['responses'];
  if (isObject(responses)) {
    msg(w, 9, (rs) => {
      for (const [code, r] of Object.entries(responses)) {
        if (!isObject(r)) continue;
        msg(rs, 1, (n) => {
          str(n, 1, code);
          msg(n, 2, (rv) => {
            if (typeof r['$ref'] === 'string') {
              msg(rv, 2, (j) => str(j, 1, r['$ref']));
              return;
            }
            msg(rv, 1, (resp) => {
              str(resp, 1, r['description']);
              const s = r['schema'];
              if (isObject(s)) msg(resp, 2, (si) => msg(si, 1, (x) => schema(x, s)));
              vendorExtensions(resp, 5, r);
            });
          });
        });
      }
    });
  }
  strs(w, 10, op['schemes']);
  bool(w, 11, op['deprecated']);
  vendorExtensions(w, 13, op);
}

const OPERATIONS = [['get', 2], ['put', 3], ['post', 4], ['delete', 5], ['options', 6], ['head', 7], ['patch', 8]] as const;

function pathItem(w: W, item: Json): void {
  str(w, 1, item['$ref']);
  for (const [name, field] of OPERATIONS) {
    const op = item[name];
    if (isObject(op)) msg(w, field, (x) => operation(x, op));
  }
  if (Array.isArray(item['parameters'])) for (const p of item['parameters']) if (isObject(p)) msg(w, 9, (x) => parametersItem(x, p));
  vendorExtensions(w, 10, item);
}

/** The document as openapi.v2.Document bytes. */
export function encodeOpenAPIV2Protobuf(doc: Readonly<Json>): Uint8Array {
  const w = protobuf.Writer.create();
  str(w, 1, doc['swagger']);
  const info = doc['info'];
  if (isObject(info)) {
    msg(w, 2, (i) => {
      str(i, 1, info['title']);
      str(i, 2, info['version']);
      str(i, 3, info['description']);
      vendorExtensions(i, 7, info);
    });
  }
  str(w, 3, doc['host']);
  str(w, 4, doc['basePath']);
  strs(w, 5, doc['schemes']);
  strs(w, 6, doc['consumes']);
  strs(w, 7, doc['produces']);
  const paths = doc['paths'];
  if (isObject(paths)) {
    msg(w, 8, (ps) => {
      for (const [p, item] of Object.entries(paths)) {
        if (!isObject(item)) continue;
        msg(ps, 2, (n) => {
          str(n, 1, p);
          msg(n, 2, (x) => pathItem(x, item));
        });
      }
    });
  }
  const definitions = doc['definitions'];
  if (isObject(definitions)) {
    msg(w, 9, (ds) => {
      for (const [name, s] of Object.entries(definitions)) {
        if (!isObject(s)) continue;
        msg(ds, 1, (n) => {
          str(n, 1, name);
          msg(n, 2, (x) => schema(x, s));
        });
      }
    });
  }
  const parameters = doc['parameters'];
  if (isObject(parameters)) {
    msg(w, 10, (ps) => {
      for (const [name, p] of Object.entries(parameters)) {
        if (!isObject(p)) continue;
        msg(ps, 1, (n) => {
          str(n, 1, name);
          msg(n, 2, (x) => parameter(x, p));
        });
      }
    });
  }
  if (Array.isArray(doc['security'])) {
    for (const req of doc['security']) {
      if (!isObject(req)) continue;
      msg(w, 12, (r) => {
        for (const [name, scopes] of Object.entries(req)) {
          msg(r, 1, (n) => {
            str(n, 1, name);
            msg(n, 2, (a) => strs(a, 1, scopes));
          });
        }
      });
    }
  }
  const secDefs = doc['securityDefinitions'];
  if (isObject(secDefs)) {
    msg(w, 13, (sd) => {
      for (const [name, def] of Object.entries(secDefs)) {
        if (!isObject(def) || def['type'] !== 'apiKey') continue;
        msg(sd, 1, (n) => {
          str(n, 1, name);
          msg(n, 2, (item) => msg(item, 2, (k) => {
            str(k, 1, def['type']);
            str(k, 2, def['name']);
            str(k, 3, def['in']);
            str(k, 4, def['description']);
            vendorExtensions(k, 5, def);
          }));
        });
      }
    });
  }
  vendorExtensions(w, 16, doc);
  return w.finish();
}
