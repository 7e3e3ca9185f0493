// The OpenAPI documents with the custom resources of Established CRDs in them (apiextensions'
// openapi and openapiv3 controllers): a v3 document per CRD group-version, the v3 index listing
// them, and /openapi/v2 (JSON and protobuf) with the CRDs' definitions and paths merged in.
// Rebuilt lazily after a CRD changes.
import { createHash } from 'node:crypto';
import { crdOpenAPIV2Additions, crdOpenAPIV3Document } from '../../api/crd/openapi.ts';
import {
  builtinOpenAPIV3Document, openAPIV2Document, openAPIV2ProtobufDocument, openAPIV2Spec, openAPIV3Index, openAPIV3Key,
  type OpenAPIDocument,
} from '../../api/openapi_docs.ts';
import { encodeOpenAPIV2Protobuf } from '../../api/openapi_v2_proto.ts';
import type { CustomResourceDefinition } from '../../api/types/apiextensions_v1.ts';
import type { CrdRegistry } from './crd_registry.ts';
import { isConditionTrue, servedVersions } from './crd_resources.ts';

/** The documents /openapi serves. */
export interface OpenAPISources {
  v2(): OpenAPIDocument;
  v2Protobuf(): { readonly bytes: Uint8Array; readonly etag: string };
  v3Index(): OpenAPIDocument;
  /** The document of an index key ("api/v1", "apis/stable.example.com/v1"), or undefined. */
  v3(key: string): OpenAPIDocument | undefined;
}

/** The built-in documents only. */
export const BUILTIN_OPENAPI: OpenAPISources = {
  v2: openAPIV2Document,
  v2Protobuf: openAPIV2ProtobufDocument,
  v3Index: () => openAPIV3Index(),
  v3: builtinOpenAPIV3Document,
};

function serialize(doc: unknown): OpenAPIDocument {
  const body = JSON.stringify(doc);
  const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
  return { body, hash, etag: `"${hash}"` };
}

/** Built-in documents plus the registry's CRDs. */
export class CrdOpenAPI implements OpenAPISources {
  #registry: CrdRegistry;
  #generation = -1;
  #v3 = new Map<string, OpenAPIDocument>();
  #index: OpenAPIDocument | undefined;
  #v2: OpenAPIDocument | undefined;
  #v2Object: Record<string, unknown> | undefined;
  #v2Proto: { readonly bytes: Uint8Array; readonly etag: string } | undefined;

  constructor(registry: CrdRegistry) {
    this.#registry = registry;
  }

  #fresh(): void {
    if (this.#generation === this.#registry.generation) return;
    this.#generation = this.#registry.generation;
    this.#v3.clear();
    this.#index = undefined;
    this.#v2 = undefined;
    this.#v2Object = undefined;
    this.#v2Proto = undefined;
  }

  #established(): CustomResourceDefinition[] {
    return this.#registry.list().filter((c) => isConditionTrue(c, 'Established'))
      .sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  }

  /** The "apis/<group>/<version>" keys CRDs serve, in name order. */
  #crdKeys(): Map<string, { group: string; version: string }> {
    const keys = new Map<string, { group: string; version: string }>();
    for (const crd of this.#established()) {
      for (const v of servedVersions(crd)) keys.set(openAPIV3Key(crd.spec.group, v), { group: crd.spec.group, version: v });
    }
    return new Map([...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  v3(key: string): OpenAPIDocument | undefined {
    const builtin = builtinOpenAPIV3Document(key);
    if (builtin) return builtin;
    this.#fresh();
    const cached = this.#v3.get(key);
    if (cached) return cached;
    const gv = this.#crdKeys().get(key);
    if (!gv) return undefined;
    const crds = this.#registry.servingCrds(gv.group, gv.version);
    const doc = serialize(crdOpenAPIV3Document(crds, gv.group, gv.version, openAPIV2Spec().definitions));
    this.#v3.set(key, doc);
    return doc;
  }

  v3Index(): OpenAPIDocument {
    this.#fresh();
    if (this.#index) return this.#index;
    const extra = new Map<string, OpenAPIDocument>();
    for (const key of this.#crdKeys().keys()) {
      const doc = this.v3(key);
      if (doc) extra.set(key, doc);
    }
    this.#index = openAPIV3Index(extra);
    return this.#index;
  }

  #v2Merged(): Record<string, unknown> | undefined {
    this.#fresh();
    if (this.#v2Object) return this.#v2Object;
    const crds = this.#established();
    if (crds.length === 0) return undefined;
    const add = crdOpenAPIV2Additions(crds);
    const base = JSON.parse(openAPIV2Document().body) as Record<string, unknown>;
    base['paths'] = { ...(base['paths'] as Record<string, unknown>), ...add.paths };
    base['definitions'] = { ...(base['definitions'] as Record<string, unknown>), ...add.definitions };
    this.#v2Object = base;
    return base;
  }

  v2(): OpenAPIDocument {
    const merged = this.#v2Merged();
    if (!merged) return openAPIV2Document();
    this.#v2 ??= serialize(merged);
    return this.#v2;
  }

  v2Protobuf(): { readonly bytes: Uint8Array; readonly etag: string } {
    const merged = this.#v2Merged();
    if (!merged) return openAPIV2ProtobufDocument();
    if (!this.#v2Proto) {
      const bytes = encodeOpenAPIV2Protobuf(merged);
      this.#v2Proto = { bytes, etag: `"${createHash('sha512').update(bytes).digest('hex').toUpperCase()}"` };
    }
    return this.#v2Proto;
  }
}
