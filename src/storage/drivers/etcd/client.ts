// A small etcd v3 gRPC client over our own etcd.proto: typed unary calls (KV, Maintenance), watch
// streams, and fail-over across several endpoints. The etcd store driver is built on it; the
// storage benchmark uses it directly as the "raw etcd" baseline.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** mvccpb.KeyValue as decoded (int64 as number: revisions stay far below 2^53). */
export interface RawKeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
  lease: number;
}

export interface ResponseHeader {
  revision: number;
}

export interface RangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  limit?: number;
  revision?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
  serializable?: boolean;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: RawKeyValue[];
  more: boolean;
  count: number;
}

export interface PutRequest {
  key: Uint8Array;
  value: Uint8Array;
  prevKv?: boolean;
}

export interface PutResponse {
  header: ResponseHeader;
  prevKv: RawKeyValue | null;
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  prevKv?: boolean;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prevKvs: RawKeyValue[];
}

export type RequestOp =
  | { requestRange: RangeRequest }
  | { requestPut: PutRequest }
  | { requestDeleteRange: DeleteRangeRequest };

export interface ResponseOp {
  response: 'responseRange' | 'responsePut' | 'responseDeleteRange';
  responseRange?: RangeResponse;
  responsePut?: PutResponse;
  responseDeleteRange?: DeleteRangeResponse;
}

export interface Compare {
  result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
  target: 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';
  key: Uint8Array;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Uint8Array;
}

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: number;
  physical?: boolean;
}

export interface StatusResponse {
  header: ResponseHeader;
  version: string;
  errors: string[];
}

export interface WatchCreateRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  startRevision?: number;
  prevKv?: boolean;
  progressNotify?: boolean;
  watchId?: number;
}

export type WatchRequest =
  | { createRequest: WatchCreateRequest }
  | { cancelRequest: { watchId: number } }
  | { progressRequest: Record<string, never> };

export interface RawEvent {
  type: 'PUT' | 'DELETE';
  kv: RawKeyValue;
  prevKv: RawKeyValue | null;
}

export interface WatchResponse {
  header: ResponseHeader;
  watchId: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  events: RawEvent[];
}

/** A bidirectional Watch RPC. */
export type WatchStream = grpc.ClientDuplexStream<WatchRequest, WatchResponse>;

/** Options of an EtcdClient. */
export interface EtcdClientOptions {
  /** Deadline of each unary call (default 15 s). */
  readonly callTimeoutMs?: number;
}

type Unary<Req, Res> = (req: Req, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;

interface KVStub extends grpc.Client {
  Range: Unary<RangeRequest, RangeResponse>;
  Put: Unary<PutRequest, PutResponse>;
  DeleteRange: Unary<DeleteRangeRequest, DeleteRangeResponse>;
  Txn: Unary<TxnRequest, TxnResponse>;
  Compact: Unary<CompactionRequest, { header: ResponseHeader }>;
}
interface WatchStub extends grpc.Client {
  Watch(): WatchStream;
}
interface MaintenanceStub extends grpc.Client {
  Status: Unary<Record<string, never>, StatusResponse>;
}
type StubCtor<T> = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ClientOptions) => T;

interface Services {
  KV: StubCtor<KVStub>;
  Watch: StubCtor<WatchStub>;
  Maintenance: StubCtor<MaintenanceStub>;
}

let services: Services | undefined;

function loadServices(): Services {
  if (services) return services;
  const def = protoLoader.loadSync(fileURLToPath(new URL('./etcd.proto', import.meta.url)), {
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = (grpc.loadPackageDefinition(def) as Record<string, unknown>)['etcdserverpb'] as Record<string, unknown>;
  services = { KV: pkg['KV'], Watch: pkg['Watch'], Maintenance: pkg['Maintenance'] } as Services;
  return services;
}

/** One endpoint's channel and the stubs sharing it. */
interface Conn {
  readonly address: string;
  readonly channel: grpc.Channel;
  readonly kv: KVStub;
  readonly watch: WatchStub;
  readonly maintenance: MaintenanceStub;
}

const channelOptions: grpc.ChannelOptions = {
  // Lists of large values may exceed grpc-js's 4 MiB default; etcd bounds what it sends.
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  // No pings without calls: etcd's keepalive policy answers those with GOAWAY (too_many_pings).
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

/** True for gRPC failures that mean "this endpoint is not reachable now". */
export function isUnavailable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === grpc.status.UNAVAILABLE;
}

/** True for a gRPC error with this status code. */
export function hasStatus(err: unknown, code: grpc.status): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

export const GrpcStatus = grpc.status;

/**
 * Talks to one etcd cluster through any of its endpoints. Calls go to the current endpoint; when it
 * is unreachable the client moves on to the next. Reads (idempotent calls) are retried there;
 * writes are not, because a write whose connection broke may still have been applied.
 */
export class EtcdClient {
  readonly endpoints: readonly string[];
  readonly #conns: Conn[];
  readonly #timeoutMs: number;
  #current = 0;
  #closed = false;

  /** `endpoints` are "host:port" pairs of the same cluster. */
  constructor(endpoints: readonly string[], opts: EtcdClientOptions = {}) {
    if (endpoints.length === 0) throw new Error('etcd client needs at least one endpoint');
    const svc = loadServices();
    this.endpoints = [...endpoints];
    this.#timeoutMs = opts.callTimeoutMs ?? 15_000;
    const creds = grpc.credentials.createInsecure();
    this.#conns = endpoints.map((address) => {
      const channel = new grpc.Channel(address, creds, channelOptions);
      const o: grpc.ClientOptions = { channelOverride: channel };
      return {
        address,
        channel,
        kv: new svc.KV(address, creds, o),
        watch: new svc.Watch(address, creds, o),
        maintenance: new svc.Maintenance(address, creds, o),
      };
    });
  }

  /** The endpoint calls currently go to. */
  get currentEndpoint(): string {
    return this.#conns[this.#current]!.address;
  }

  range(req: RangeRequest): Promise<RangeResponse> {
    return this.#unary((c) => c.kv.Range.bind(c.kv), req, true);
  }

  put(req: PutRequest): Promise<PutResponse> {
    return this.#unary((c) => c.kv.Put.bind(c.kv), req, false);
  }

  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.#unary((c) => c.kv.DeleteRange.bind(c.kv), req, false);
  }

  txn(req: TxnRequest, idempotent = false): Promise<TxnResponse> {
    return this.#unary((c) => c.kv.Txn.bind(c.kv), req, idempotent);
  }

  compact(req: CompactionRequest): Promise<{ header: ResponseHeader }> {
    // Compacting twice to the same revision is harmless (the second says "compacted"), so retry.
    return this.#unary((c) => c.kv.Compact.bind(c.kv), req, true);
  }

  /** Maintenance.Status of one endpoint (default: the current one), without fail-over. */
  status(endpointIndex = this.#current, timeoutMs = this.#timeoutMs): Promise<StatusResponse> {
    const conn = this.#conns[endpointIndex]!;
    return call(conn.maintenance.Status.bind(conn.maintenance), {}, timeoutMs);
  }

  /**
   * Finds an endpoint that answers Status and makes it current; throws naming every endpoint
   * and its error when none does.
   */
  async connect(timeoutMs = 5_000): Promise<StatusResponse> {
    const errors: string[] = [];
    for (let i = 0; i < this.#conns.length; i++) {
      const idx = (this.#current + i) % this.#conns.length;
      try {
        const st = await this.status(idx, timeoutMs);
        this.#current = idx;
        return st;
      } catch (err) {
        errors.push(`${this.#conns[idx]!.address}: ${(err as Error).message}`);
      }
    }
    throw new Error(`cannot reach etcd at ${this.endpoints.join(',')}: ${errors.join('; ')}`);
  }

  /** Opens a Watch RPC on the current endpoint; the caller owns it (cancel() ends it). */
  watchStream(): WatchStream {
    if (this.#closed) throw new Error('etcd client is closed');
    return this.#conns[this.#current]!.watch.Watch();
  }

  /** Moves calls to the next endpoint if `address` is still the current one. */
  failOver(address: string): void {
    if (this.#conns.length > 1 && this.#conns[this.#current]!.address === address) {
      this.#current = (this.#current + 1) % this.#conns.length;
    }
  }

  /** Closes every channel; calls in flight fail with CANCELLED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#conns) {
      c.kv.close();
      c.watch.close();
      c.maintenance.close();
      c.channel.close();
    }
  }

  async #unary<Req, Res>(pick: (c: Conn) => Unary<Req, Res>, req: Req, idempotent: boolean): Promise<Res> {
    if (this.#closed) throw new Error('etcd client is closed');
    const attempts = idempotent ? this.#conns.length : 1;
    let lastErr: unknown;
    for (let i = 0; i < attempts; i++) {
      const conn = this.#conns[this.#current]!;
      try {
        return await call(pick(conn), req, this.#timeoutMs);
      } catch (err) {
        lastErr = err;
        if (!isUnavailable(err)) throw err;
        this.failOver(conn.address);
      }
    }
    throw lastErr;
  }
}

function call<Req, Res>(fn: Unary<Req, Res>, req: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(err);
      else resolve(res!);
    });
  });
}
