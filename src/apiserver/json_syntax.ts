// Go's encoding/json syntax errors for request bodies: JSON.parse's own messages mean nothing to a
// Kubernetes client, so a body that fails to parse is rescanned with Go's scanner rules to say
// what the API server says ("invalid character 'x' looking for beginning of value").

/** Go's limit on nested arrays and objects (encoding/json maxNestingDepth). */
export const MAX_JSON_NESTING_DEPTH = 10000;

const St = {
  BeginValue: 0, BeginValueOrEmpty: 1, BeginStringOrEmpty: 2, BeginString: 3, EndValue: 4, EndTop: 5,
  InString: 6, InStringEsc: 7, InStringEscU: 8, Neg: 9, One: 10, Zero: 11, Dot: 12, Dot0: 13, E: 14,
  ESign: 15, E0: 16, Literal: 17,
} as const;
type State = typeof St[keyof typeof St];

const OBJECT_KEY = 0;
const OBJECT_VALUE = 1;
const ARRAY_VALUE = 2;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Go's quoteChar: the byte as a quoted Go character ('x', '\n', '\x00', '\''). */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' };
  if (named[c] !== undefined) return `'${named[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  // A byte >= 0x80 prints as the Latin-1 rune of the same value (Go quotes string(rune(c))).
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `'\\u${c.toString(16).padStart(4, '0')}'`;
  return `'${String.fromCharCode(c)}'`;
}

/**
 * The message Go's json.Unmarshal gives for malformed JSON, or undefined when the bytes are
 * syntactically valid JSON within Go's nesting limit.
 */
export function goJsonSyntaxError(data: Uint8Array): string | undefined {
  let state = St.BeginValue as State;
  const stack: number[] = [];
  let literal = '';
  let literalPos = 0;
  let hexLeft = 0;
  const error = (c: number, context: string): string => `invalid character ${quoteChar(c)} ${context}`;
  const step = (c: number): string | undefined => {
    // A loop lets states that end a value hand the same byte on to EndValue.
    for (;;) {
      switch (state) {
        case St.BeginValueOrEmpty:
          if (isSpace(c)) break;
          if (c === 0x5d) { state = St.EndValue; continue; }
          state = St.BeginValue;
          continue;
        case St.BeginValue:
          if (isSpace(c)) break;
          if (c === 0x7b) {
            if (stack.length >= MAX_JSON_NESTING_DEPTH) return error(c, 'exceeded max depth');
            stack.push(OBJECT_KEY);
            state = St.BeginStringOrEmpty;
          } else if (c === 0x5b) {
            if (stack.length >= MAX_JSON_NESTING_DEPTH) return error(c, 'exceeded max depth');
            stack.push(ARRAY_VALUE);
            state = St.BeginValueOrEmpty;
          } else if (c === 0x22) state = St.InString;
          else if (c === 0x2d) state = St.Neg;
          else if (c === 0x30) state = St.Zero;
          else if (c >= 0x31 && c <= 0x39) state = St.One;
          else if (c === 0x74 || c === 0x66 || c === 0x6e) {
            literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
            literalPos = 1;
            state = St.Literal;
          } else return error(c, 'looking for beginning of value');
          break;
        case St.BeginStringOrEmpty:
          if (isSpace(c)) break;
          if (c === 0x7d) {
            stack[stack.length - 1] = OBJECT_VALUE;
            state = St.EndValue;
            continue;
          }
          state = St.BeginString;
          continue;
        case St.BeginString:
          if (isSpace(c)) break;
          if (c !== 0x22) return error(c, 'looking for beginning of object key string');
          state = St.InString;
          break;
        case St.EndValue: {
          if (stack.length === 0) { state = St.EndTop; continue; }
          if (isSpace(c)) break;
          const top = stack[stack.length - 1]!;
          if (top === OBJECT_KEY) {
            if (c !== 0x3a) return error(c, 'after object key');
            stack[stack.length - 1] = OBJECT_VALUE;
            state = St.BeginValue;
          } else if (top === OBJECT_VALUE) {
            if (c === 0x2c) { stack[stack.length - 1] = OBJECT_KEY; state = St.BeginString; } else if (c === 0x7d) {
              stack.pop();
              state = St.EndValue;
            } else return error(c, 'after object key:value pair');
          } else {
            if (c === 0x2c) state = St.BeginValue;
            else if (c === 0x5d) { stack.pop(); state = St.EndValue; } else return error(c, 'after array element');
          }
          break;
        }
        case St.EndTop:
          if (!isSpace(c)) return error(c, 'after top-level value');
          break;
        case St.InString:
          if (c === 0x22) state = St.EndValue;
          else if (c === 0x5c) state = St.InStringEsc;
          else if (c < 0x20) return error(c, 'in string literal');
          break;
        case St.InStringEsc:
          if (c === 0x75) { hexLeft = 4; state = St.InStringEscU; } else if ('bfnrt\\/"'.includes(String.fromCharCode(c))) state = St.InString;
          else return error(c, 'in string escape code');
          break;
        case St.InStringEscU:
          if (!isHex(c)) return error(c, 'in \\u hexadecimal character escape');
          if (--hexLeft === 0) state = St.InString;
          break;
        case St.Neg:
          if (c === 0x30) state = St.Zero;
          else if (c >= 0x31 && c <= 0x39) state = St.One;
          else return error(c, 'in numeric literal');
          break;
        case St.One:
          if (isDigit(c)) break;
          state = St.Zero;
          continue;
        case St.Zero:
          if (c === 0x2e) state = St.Dot;
          else if (c === 0x65 || c === 0x45) state = St.E;
          else { state = St.EndValue; continue; }
          break;
        case St.Dot:
          if (!isDigit(c)) return error(c, 'after decimal point in numeric literal');
          state = St.Dot0;
          break;
        case St.Dot0:
          if (isDigit(c)) break;
          if (c === 0x65 || c === 0x45) { state = St.E; break; }
          state = St.EndValue;
          continue;
        case St.E:
          if (c === 0x2b || c === 0x2d) { state = St.ESign; break; }
          state = St.ESign;
          continue;
        case St.ESign:
          if (!isDigit(c)) return error(c, 'in exponent of numeric literal');
          state = St.E0;
          break;
        case St.E0:
          if (isDigit(c)) break;
          state = St.EndValue;
          continue;
        case St.Literal: {
          const want = literal.charCodeAt(literalPos);
          if (c !== want) return error(c, `in literal ${literal} (expecting ${quoteChar(want)})`);
          if (++literalPos === literal.length) state = St.EndValue;
          break;
        }
      }
      return undefined;
    }
  };
  for (let i = 0; i < data.length; i++) {
    const e = step(data[i]!);
    if (e !== undefined) return e;
  }
  // Go ends the input with a space: an open number or literal fails on it, an open string does not.
  return step(0x20) ?? (state === St.EndTop ? undefined : 'unexpected end of JSON input');
}

/** The kind of JSON value Go's unmarshal names in a type error ("array", "string", "number", "bool", "object"). */
export function goJsonValueKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return v === null ? 'null' : 'object';
}

/** Go's summarizeData: a body's first 30 bytes, as text when it looks like JSON, as hex otherwise. */
export function summarizeBody(data: Uint8Array, maxLength = 30): string {
  if (data.length === 0) return '<empty>';
  const head = data.length > maxLength ? data.subarray(0, maxLength) : data;
  const more = data.length > maxLength ? ' ...' : '';
  if (data[0] === 0x7b) return Buffer.from(head).toString('utf8') + more;
  return Buffer.from(head).toString('hex') + more;
}

/** The nesting depth of JSON text, counting brackets outside strings (bodies parse first, so this only measures). */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) { if (++depth > max) max = depth; } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
