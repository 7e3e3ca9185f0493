// Network failures in the words Go's net and net/http packages use, since upstream's probe outputs
// (and so the Unhealthy events users read) carry them: "dial tcp 10.0.0.5:80: connect: connection refused".

/** host:port as net.JoinHostPort writes it (IPv6 in brackets). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's text of a failed TCP dial to `hostPort`, from a Node socket error. */
export function dialErrorText(hostPort: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED': return `dial tcp ${hostPort}: connect: connection refused`;
    case 'EHOSTUNREACH': return `dial tcp ${hostPort}: connect: no route to host`;
    case 'ENETUNREACH': return `dial tcp ${hostPort}: connect: network is unreachable`;
    case 'ETIMEDOUT': return `dial tcp ${hostPort}: i/o timeout`;
    case 'ENOTFOUND': return `dial tcp: lookup ${hostPort.replace(/:\d+$/, '')}: no such host`;
    case 'EADDRNOTAVAIL': return `dial tcp ${hostPort}: connect: cannot assign requested address`;
    default: return err instanceof Error ? err.message : String(err);
  }
}

/** Go's text of a failed HTTP exchange after the dial (or of the dial, when it failed). */
export function httpErrorText(hostPort: string, err: unknown): string {
  const e = err as (NodeJS.ErrnoException & { reason?: string }) | undefined;
  const message = e instanceof Error ? e.message : String(err);
  if (e?.code === 'ECONNRESET' && message === 'socket hang up') return 'EOF';
  if (e?.code === 'ECONNRESET') return 'read: connection reset by peer';
  if (e?.code === 'EPIPE') return 'write: broken pipe';
  // a TLS client reading a plain HTTP answer (Node: "wrong version number" / "packet length too long")
  if (e?.code === 'EPROTO' || e?.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|http request/i.test(message)) {
    return 'http: server gave HTTP response to HTTPS client';
  }
  return dialErrorText(hostPort, err);
}
