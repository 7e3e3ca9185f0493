// Serves /openapi/v2 (JSON, or gnostic protobuf, which kubectl asks for when it validates a kind the
// v3 documents lack, such as List) and /openapi/v3 with its per group-version documents, with ETags.
import type { ServerResponse } from 'node:http';
import type { OpenAPIDocument } from '../api/openapi_docs.ts';
import { newNoResource, newNotAcceptable } from './errors.ts';
import { writeRaw, type Req, type Res } from './http_util.ts';
import { BUILTIN_OPENAPI, type OpenAPISources } from './crd/openapi.ts';

function send(req: Req, res: Res, doc: OpenAPIDocument, immutable: boolean): void {
  const headers: Record<string, string> = { ETag: doc.etag, Vary: 'Accept' };
  headers['Cache-Control'] = immutable ? 'public, immutable' : 'no-cache, private';
  if (req.headers['if-none-match'] === doc.etag) {
    (res as ServerResponse).writeHead(304, headers);
    res.end();
    return;
  }
  writeRaw(res, 200, doc.body, 'application/json', headers);
}

/** What upstream answers with: the request's `@v1.0` is not a valid media type character. */
const PROTOBUF_V2_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const PROTOBUF_V2 = /application\/com\.github\.proto-openapi\.spec\.v2[@.]v1\.0\+protobuf/;

function sendProtobuf(req: Req, res: Res, docs: OpenAPISources): void {
  const doc = docs.v2Protobuf();
  const headers = { ETag: doc.etag, Vary: 'Accept', 'Cache-Control': 'no-cache, private' };
  if (req.headers['if-none-match'] === doc.etag) {
    (res as ServerResponse).writeHead(304, headers);
    res.end();
    return;
  }
  (res as ServerResponse).writeHead(200, { ...headers, 'Content-Type': PROTOBUF_V2_TYPE, 'Content-Length': String(doc.bytes.length) });
  res.end(doc.bytes);
}

/** Answers a GET under /openapi; `docs` adds the CRDs' documents to the built-in ones. */
export function serveOpenAPI(req: Req, res: Res, path: string, docs: OpenAPISources = BUILTIN_OPENAPI): void {
  if (path === '/openapi/v2') {
    const accept = String(req.headers['accept'] ?? '');
    if (PROTOBUF_V2.test(accept)) {
      sendProtobuf(req, res, docs);
      return;
    }
    if (accept !== '' && !/application\/json|\*\/\*/.test(accept)) {
      throw newNotAcceptable(['application/json', PROTOBUF_V2_TYPE]);
    }
    send(req, res, docs.v2(), false);
    return;
  }
  if (path === '/openapi/v3') {
    send(req, res, docs.v3Index(), false);
    return;
  }
  if (path.startsWith('/openapi/v3/')) {
    const doc = docs.v3(path.slice('/openapi/v3/'.length));
    if (!doc) throw newNoResource();
    send(req, res, doc, true);
    return;
  }
  throw newNoResource();
}
