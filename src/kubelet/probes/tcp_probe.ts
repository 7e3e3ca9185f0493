// The tcpSocket probe (upstream pkg/probe/tcp): success when a TCP connection opens within the
// timeout, closed at once; otherwise a failure carrying Go's dial error text.
import net from 'node:net';
import { dialErrorText, joinHostPort } from './net_errors.ts';
import { ProbeOutcome, type ProbeRun } from './types.ts';

/** Connects to host:port once. */
export function doTcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeRun> {
  const hostPort = joinHostPort(host, port);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let done = false;
    const finish = (run: ProbeRun): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(run);
    };
    const timer = setTimeout(() => finish({ outcome: ProbeOutcome.Failure, output: `dial tcp ${hostPort}: i/o timeout` }), timeoutMs);
    socket.once('connect', () => finish({ outcome: ProbeOutcome.Success, output: '' }));
    socket.once('error', (err) => finish({ outcome: ProbeOutcome.Failure, output: dialErrorText(hostPort, err) }));
  });
}
