// The tcpSocket probe (upstream pkg/probe/tcp): success when a TCP connection opens within the
// timeout, closed at once; otherwise a failure carrying Go's dial error text.
import net from 'node:net';
import { dialErrorText, joinHostPort } from './net_errors.ts';
import { ProbeOutcome, type ProbeRun } from './types.ts';

/** Connects to host:port once; `signal` (the kubelet stopping) ends the attempt at once. */
export function doTcpProbe(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeRun> {
  const hostPort = joinHostPort(host, port);
  const cancelled: ProbeRun = { outcome: ProbeOutcome.Failure, output: `dial tcp ${hostPort}: operation was canceled` };
  if (signal?.aborted) return Promise.resolve(cancelled);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let done = false;
    const finish = (run: ProbeRun): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(run);
    };
    const onAbort = (): void => finish(cancelled);
    const timer = setTimeout(() => finish({ outcome: ProbeOutcome.Failure, output: `dial tcp ${hostPort}: i/o timeout` }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ outcome: ProbeOutcome.Success, output: '' }));
    socket.once('error', (err) => finish({ outcome: ProbeOutcome.Failure, output: dialErrorText(hostPort, err) }));
  });
}
