// Serializing an object once per revision: stored values are compact JSON without
// metadata.resourceVersion, served ones carry it, so the served bytes are the stored bytes with that
// one member spliced in rather than a second JSON.stringify (or a parse and a stringify).

/** A value that never occurs in a real object: marks where resourceVersion goes while encoding. */
const SENTINEL = '\u0000tkube:resourceVersion\u0000';
const SENTINEL_MEMBER = `"resourceVersion":${JSON.stringify(SENTINEL)}`;

const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a, COMMA = 0x2c;
const OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d, OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d;
const METADATA = Buffer.from('metadata');

/** Index just past the string starting at b[i] (a quote), or -1. */
function skipString(b: Buffer, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, from);
    if (q < 0) return -1;
    let slashes = 0;
    for (let k = q - 1; k > i && b[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Index just past the JSON value starting at b[i], or -1 (compact JSON only). */
function skipValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < b.length; j++) {
      const d = b[j];
      if (d === QUOTE) {
        j = skipString(b, j);
        if (j < 0) return -1;
        j--;
      } else if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // number, true, false, null
  let j = i;
  while (j < b.length && b[j] !== COMMA && b[j] !== CLOSE_BRACE && b[j] !== CLOSE_BRACKET) j++;
  return j > i ? j : -1;
}

/**
 * Offset of the "}" closing the top-level "metadata" object of compact JSON (JSON.stringify's
 * output), or -1 when the bytes are not an object with such a member in that form.
 */
export function metadataClose(b: Buffer): number {
  if (b.length < 2 || b[0] !== OPEN_BRACE) return -1;
  let i = 1;
  while (i < b.length) {
    if (b[i] !== QUOTE) return -1;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0 || b[keyEnd] !== COLON) return -1;
    const isMetadata = keyEnd - i - 2 === METADATA.length && b.compare(METADATA, 0, METADATA.length, i + 1, keyEnd - 1) === 0;
    const valueEnd = skipValue(b, keyEnd + 1);
    if (valueEnd < 0) return -1;
    if (isMetadata) return b[keyEnd + 1] === OPEN_BRACE ? valueEnd - 1 : -1;
    if (b[valueEnd] !== COMMA) return -1;
    i = valueEnd + 1;
  }
  return -1;
}

/**
 * The served form of stored bytes: "resourceVersion" appended to metadata, exactly what decoding,
 * setting metadata.resourceVersion and JSON.stringify would give; undefined when the bytes are not
 * compact JSON with a metadata object (the caller then serializes the decoded object).
 */
export function withResourceVersion(stored: Buffer, revision: number, close = metadataClose(stored)): Buffer | undefined {
  if (close < 0) return undefined;
  const member = Buffer.from(`${stored[close - 1] === OPEN_BRACE ? '' : ','}"resourceVersion":"${revision}"`);
  return Buffer.concat([stored.subarray(0, close), member, stored.subarray(close)], stored.length + member.length);
}

/** An object serialized once: the bytes to store, and the served bytes once the revision is known. */
export interface EncodedObject {
  /** Compact JSON without metadata.resourceVersion. */
  readonly stored: Buffer;
  /** JSON.stringify of the object with metadata.resourceVersion = revision (undefined: serialize it). */
  served(revision: number): Buffer | undefined;
}

function unserved(): undefined {
  return undefined;
}

/**
 * Serializes an object for storage. resourceVersion is the store's revision and never persisted;
 * the served bytes keep it where the object has it (or last in metadata, where it is set later).
 */
export function encodeObject(obj: Record<string, unknown>): EncodedObject {
  const m = obj['metadata'];
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { stored: Buffer.from(JSON.stringify(obj)), served: unserved };
  const md = m as Record<string, unknown>;
  const had = Object.prototype.hasOwnProperty.call(md, 'resourceVersion');
  const rv = md['resourceVersion'];
  md['resourceVersion'] = SENTINEL;
  let text: string;
  try {
    text = JSON.stringify(obj);
  } finally {
    if (had) md['resourceVersion'] = rv;
    else delete md['resourceVersion'];
  }
  const at = text.indexOf(SENTINEL_MEMBER);
  if (at < 0 || text.indexOf(SENTINEL_MEMBER, at + 1) >= 0) {
    // Someone else's value looks like ours: fall back to the plain way.
    delete md['resourceVersion'];
    try {
      return { stored: Buffer.from(JSON.stringify(obj)), served: unserved };
    } finally {
      if (had) md['resourceVersion'] = rv;
    }
  }
  const end = at + SENTINEL_MEMBER.length;
  // The stored text drops the member with one adjacent comma; the served bytes put it back there.
  if (text.charCodeAt(at - 1) === COMMA) return new Encoded(text, at, end, text.slice(0, at - 1) + text.slice(end), at - 1, ',', '');
  if (text.charCodeAt(end) === COMMA) return new Encoded(text, at, end, text.slice(0, at) + text.slice(end + 1), at, '', ',');
  return new Encoded(text, at, end, text.slice(0, at) + text.slice(end), at, '', '');
}

/**
 * encodeObject's result for an object with metadata. A class, not a closure: tsx names every
 * closure it creates, and this is made on every write.
 */
class Encoded implements EncodedObject {
  readonly stored: Buffer;
  /** The encoding with the sentinel member, and where that member is. */
  readonly #text: string;
  readonly #at: number;
  readonly #end: number;
  /** Where the member goes back into the stored bytes, and the comma it takes along. */
  readonly #pos: number;
  readonly #lead: string;
  readonly #trail: string;
  /** ASCII text (the usual case) has byte offsets equal to character offsets: bytes are spliced. */
  readonly #ascii: boolean;
  // The response and the watch cache both ask for the written revision: it is spliced once.
  #lastRevision = -1;
  #last: Buffer | undefined;

  constructor(text: string, at: number, end: number, storedText: string, pos: number, lead: string, trail: string) {
    this.#text = text;
    this.#at = at;
    this.#end = end;
    this.#pos = pos;
    this.#lead = lead;
    this.#trail = trail;
    this.stored = Buffer.from(storedText);
    this.#ascii = this.stored.length === storedText.length;
  }

  served(revision: number): Buffer | undefined {
    if (revision === this.#lastRevision) return this.#last;
    let out: Buffer;
    if (!this.#ascii) out = Buffer.from(`${this.#text.slice(0, this.#at)}"resourceVersion":"${revision}"${this.#text.slice(this.#end)}`);
    else {
      const stored = this.stored;
      const member = Buffer.from(`${this.#lead}"resourceVersion":"${revision}"${this.#trail}`);
      out = Buffer.concat([stored.subarray(0, this.#pos), member, stored.subarray(this.#pos)], stored.length + member.length);
    }
    this.#lastRevision = revision;
    this.#last = out;
    return out;
  }
}

/** Served JSON of objects the registry just wrote, for answering without serializing them again. */
const served = new WeakMap<object, Buffer>();

/** Records the served JSON of an object returned by a write; it must not change afterwards. */
export function rememberServedJSON(obj: object, json: Buffer | undefined): void {
  if (json !== undefined) served.set(obj, json);
}

/** The served JSON recorded for an object, if any. */
export function servedJSON(obj: object): Buffer | undefined {
  return served.get(obj);
}
