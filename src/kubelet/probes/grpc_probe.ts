// The grpc probe (upstream pkg/probe/grpc): grpc.health.v1.Health/Check over plaintext to the pod
// IP and port, connecting and answering within the timeout; SERVING is success, anything else a
// failure in upstream's words. The service definition is our own health.proto.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { formatGoDuration } from '../backoff.ts';
import { joinHostPort } from './net_errors.ts';
import { userAgent } from './http_probe.ts';
import { ProbeOutcome, type ProbeRun } from './types.ts';

const PROTO_PATH = fileURLToPath(new URL('./health.proto', import.meta.url));

let checkMethod: protoLoader.MethodDefinition<object, object> | undefined;

/** The Health/Check method (loaded once); also used by tests to serve it. */
export function healthCheckMethod(): protoLoader.MethodDefinition<object, object> {
  if (!checkMethod) {
    const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, enums: String, defaults: true });
    checkMethod = (def['grpc.health.v1.Health'] as protoLoader.ServiceDefinition)['Check'] as protoLoader.MethodDefinition<object, object>;
  }
  return checkMethod;
}

/** Go's codes.Code String() of a grpc-js status number ("DeadlineExceeded"). */
function codeName(code: number): string {
  const name = Object.entries(grpc.status).find(([, v]) => v === code)?.[0] ?? `Code(${code})`;
  if (name === 'OK') return 'OK';
  return name.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
}

/** One health check of `service` at host:port. */
export async function doGrpcProbe(host: string, port: number, service: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeRun> {
  const addr = joinHostPort(host, port);
  const method = healthCheckMethod();
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), { 'grpc.primary_user_agent': userAgent('probe') });
  const deadline = Date.now() + timeoutMs;
  const timeout = formatGoDuration(timeoutMs);
  // the kubelet stopping ends the wait for a connection (closing the channel) and the call in flight
  let call: grpc.ClientUnaryCall | undefined;
  const onAbort = (): void => {
    call?.cancel();
    client.close();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  try {
    try {
      await new Promise<void>((resolve, reject) => client.waitForReady(deadline, (err) => (err ? reject(err) : resolve())));
    } catch {
      return { outcome: ProbeOutcome.Failure, output: `timeout: failed to connect service ${JSON.stringify(addr)} within ${timeout}: context deadline exceeded` };
    }
    let resp: { status?: string };
    try {
      resp = await new Promise<{ status?: string }>((resolve, reject) => {
        call = client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, { service }, new grpc.Metadata(), { deadline },
          (err: grpc.ServiceError | null, res?: object) => (err ? reject(err) : resolve((res ?? {}) as { status?: string })));
      });
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.UNIMPLEMENTED) {
        return { outcome: ProbeOutcome.Failure, output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details}` };
      }
      if (e.code === grpc.status.DEADLINE_EXCEEDED) {
        return { outcome: ProbeOutcome.Failure, output: `timeout: health rpc did not complete within ${timeout}` };
      }
      return { outcome: ProbeOutcome.Failure, output: `error: health rpc probe failed: rpc error: code = ${codeName(e.code)} desc = ${e.details}` };
    }
    const status = resp.status ?? 'UNKNOWN';
    if (status !== 'SERVING') return { outcome: ProbeOutcome.Failure, output: `service unhealthy (responded with ${JSON.stringify(status)})` };
    return { outcome: ProbeOutcome.Success, output: 'service healthy' };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    client.close();
  }
}
