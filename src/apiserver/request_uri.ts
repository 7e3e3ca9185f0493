// Splits a request-target into its path and query the way Go's net/http does (url.ParseRequestURI):
// the path is percent-decoded and kept exactly as sent. WHATWG URL parsing would resolve "." and
// ".." segments (and "%2e%2e"), turning DELETE .../configmaps/.. into a DELETE of the namespace.

/** A request's decoded path and its query. */
export interface RequestURI {
  /** Percent-decoded path; "%2F" becomes "/" as in Go's URL.Path, dot segments stay. */
  readonly path: string;
  readonly query: URLSearchParams;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Go's unescape in path mode; undefined for a malformed escape (Go answers 400 Bad Request). */
function unescapePath(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  const bytes = Buffer.from(raw, 'latin1');
  const out = Buffer.alloc(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c !== 0x25) {
      out[n++] = c;
      continue;
    }
    const hi = i + 1 < bytes.length ? hexValue(bytes[i + 1]!) : -1;
    const lo = i + 2 < bytes.length ? hexValue(bytes[i + 2]!) : -1;
    if (hi < 0 || lo < 0) return undefined;
    out[n++] = hi * 16 + lo;
    i += 2;
  }
  return out.subarray(0, n).toString('utf8');
}

/** Parses a request-target (origin form, absolute form or "*"); undefined when it is malformed. */
export function parseRequestURI(target: string): RequestURI | undefined {
  let rest = target;
  const absolute = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(rest);
  if (absolute) rest = rest.slice(absolute[0].length) || '/';
  const q = rest.indexOf('?');
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  if (rawPath !== '*' && !rawPath.startsWith('/')) return undefined;
  const path = unescapePath(rawPath);
  if (path === undefined) return undefined;
  return { path, query: new URLSearchParams(q < 0 ? '' : rest.slice(q + 1)) };
}

/** path.IsValidPathSegmentName: why a name cannot be one path segment (empty when it can). */
export function pathSegmentNameErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  if (name.includes('/')) errs.push(`may not contain '/'`);
  if (name.includes('%')) errs.push(`may not contain '%'`);
  return errs;
}
