// Parses a request path and method into what it asks for (upstream's RequestInfoFactory):
// group, version, namespace, resource, name, subresource and the verb.

/** What a request is about. */
export interface RequestInfo {
  readonly isResourceRequest: boolean;
  /** "/api" or "/apis" for resource requests. */
  readonly apiPrefix: string;
  readonly group: string;
  readonly version: string;
  readonly namespace: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  /** get list watch create update patch delete deletecollection (or the lower-case HTTP method). */
  readonly verb: string;
  /** The path split on "/". */
  readonly parts: readonly string[];
  readonly path: string;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Go strconv.ParseBool semantics, with the empty string meaning false (CLIENT-COMPAT §0). */
export function parseBool(v: string | null | undefined): boolean | undefined {
  if (v === null || v === undefined || v === '') return false;
  switch (v) {
    case '1': case 't': case 'T': case 'true': case 'TRUE': case 'True': return true;
    case '0': case 'f': case 'F': case 'false': case 'FALSE': case 'False': return false;
    default: return undefined;
  }
}

/** Splits and classifies a request. */
export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const parts = path.split('/').filter((p) => p !== '');
  const base = {
    isResourceRequest: false, apiPrefix: '', group: '', version: '', namespace: '', resource: '',
    subresource: '', name: '', verb: method.toLowerCase(), parts, path,
  };
  if (parts.length === 0 || (parts[0] !== 'api' && parts[0] !== 'apis')) return base;
  let rest: string[];
  let group = '';
  let version: string;
  const apiPrefix = '/' + parts[0];
  if (parts[0] === 'api') {
    if (parts.length < 2) return { ...base, apiPrefix };
    version = parts[1]!;
    rest = parts.slice(2);
  } else {
    if (parts.length < 3) return { ...base, apiPrefix, group: parts[1] ?? '', version: '' };
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  }
  if (rest.length === 0) return { ...base, apiPrefix, group, version };

  let verb = '';
  let isWatchPath = false;
  if (rest[0] === 'watch') {
    isWatchPath = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      namespace = rest[1]!;
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) {
        rest = rest.slice(2);
      }
    }
  }
  const resource = rest[0] ?? '';
  const name = rest.length >= 2 ? rest[1]! : '';
  const subresource = rest.length >= 3 ? rest[2]! : '';
  // "namespaces/<name>" names a namespace rather than scoping into it.
  if (resource === 'namespaces') namespace = '';

  switch (method.toUpperCase()) {
    case 'POST': verb = 'create'; break;
    case 'GET': case 'HEAD': verb = 'get'; break;
    case 'PUT': verb = 'update'; break;
    case 'PATCH': verb = 'patch'; break;
    case 'DELETE': verb = 'delete'; break;
    default: verb = method.toLowerCase();
  }
  if (isWatchPath) {
    verb = 'watch';
  } else if (verb === 'get' && name === '') {
    verb = parseBool(query.get('watch')) ? 'watch' : 'list';
  } else if (verb === 'delete' && name === '') {
    verb = 'deletecollection';
  }
  // A watch with a name in the path (legacy /watch/ns/x/name) is a watch on that name.
  return {
    isResourceRequest: true, apiPrefix, group, version, namespace, resource, subresource, name, verb, parts, path,
  };
}
