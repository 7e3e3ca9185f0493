// Serves /openapi/v2 (JSON only: kubectl asks for protobuf there only when v3 is missing) and
// /openapi/v3 with its per group-version documents, with ETags and immutable caching.
import { builtinOpenAPIV3Document, openAPIV2Document, openAPIV3Index, type OpenAPIDocument } from '../api/openapi_docs.ts';
import { newNoResource, newNotAcceptable } from './errors.ts';
import { writeRaw, type Req, type Res } from './http_util.ts';

function send(req: Req, res: Res, doc: OpenAPIDocument, immutable: boolean): void {
  const headers: Record<string, string> = { ETag: doc.etag, Vary: 'Accept' };
  headers['Cache-Control'] = immutable ? 'public, immutable' : 'no-cache, private';
  if (req.headers['if-none-match'] === doc.etag) {
    (res as import('node:http').ServerResponse).writeHead(304, headers);
    res.end();
    return;
  }
  writeRaw(res, 200, doc.body, 'application/json', headers);
}

/** Answers a GET under /openapi. */
export function serveOpenAPI(req: Req, res: Res, path: string): void {
  if (path === '/openapi/v2') {
    const accept = String(req.headers['accept'] ?? '');
    if (accept !== '' && !/application\/json|\*\/\*/.test(accept)) {
      throw newNotAcceptable(['application/json']);
    }
    send(req, res, openAPIV2Document(), false);
    return;
  }
  if (path === '/openapi/v3') {
    send(req, res, openAPIV3Index(), false);
    return;
  }
  if (path.startsWith('/openapi/v3/')) {
    const doc = builtinOpenAPIV3Document(path.slice('/openapi/v3/'.length));
    if (!doc) throw newNoResource();
    send(req, res, doc, true);
    return;
  }
  throw newNoResource();
}
