// What every resource handler receives: the parsed request, the resource's registry, the
// negotiated output, the authenticated user, and helpers to answer.
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { Req, Res, Negotiated } from '../http_util.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';
import type { RequestInfo } from '../request_info.ts';

/** An authenticated user (user.Info). */
export interface UserInfo {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** Services handlers need from the server, kept narrow so handlers stay testable. */
export interface HandlerServices {
  /** Converts objects to a metav1 Table for the resource. */
  toTable(info: ResourceInfo, objs: KObject[], opts: { includeObject: string; noHeaders?: boolean; listMeta?: Record<string, unknown> }): KObject;
  /** Decodes a request body (JSON, YAML, protobuf) into an object. */
  decodeBody(req: Req, body: Buffer, info: ResourceInfo): KObject;
  /** Fails with 400 when an object does not fit its schema's types (as Go's decoder would). */
  checkTyped(info: ResourceInfo, obj: KObject): void;
  /** Unknown-field handling per fieldValidation; returns warnings for Warn. */
  checkFields(info: ResourceInfo, obj: KObject, mode: string): string[];
}

/** One resource request. */
export interface HandlerContext {
  readonly req: Req;
  readonly res: Res;
  readonly ri: RequestInfo;
  readonly query: URLSearchParams;
  readonly info: ResourceInfo;
  readonly store: GenericStore;
  readonly negotiated: Negotiated;
  readonly user: UserInfo;
  readonly services: HandlerServices;
  /** Warnings to send as `Warning: 299 - "…"` headers. */
  readonly warnings: string[];
}
