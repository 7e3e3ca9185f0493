// The server-side apply schema of a custom resource version (apiextensions' typeConverter built
// from buildOpenAPIModelsForApply): the kind's published OpenAPI v3 schema read as upstream's
// schemaconv reads it, so list types, map types and preserved fields decide field ownership.
import { atomFromOpenAPI, type Atom } from '../apply/schema.ts';
import type { CustomResourceDefinition } from '../types/apiextensions_v1.ts';
import { crdDefinitionName, crdKindSchemaV3 } from './openapi.ts';

/**
 * The apply schema of one version. A version without a (structural) schema is an object of
 * free-form fields, as upstream's deduced types.
 */
export function crdApplyAtom(crd: CustomResourceDefinition, version: string): Atom {
  const name = crdDefinitionName(crd.spec.group, version, crd.spec.names.kind);
  return atomFromOpenAPI(crdKindSchemaV3(crd, version), name);
}
