// HTTP/1.1 transport over a keep-alive https.Agent: the fallback for servers or proxies that do not
// speak HTTP/2. Each watch holds one socket of the agent for its lifetime.
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { flattenHeaders, parseServer, type Transport, type TransportOptions, type TransportRequest, type TransportResponse } from './transport.ts';

/** Sockets per host; watches hold one each, so this bounds watches plus concurrent requests. */
const MAX_SOCKETS = 256;

/** HTTP/1.1 transport with connection reuse. */
export class Http1Transport implements Transport {
  readonly protocol = 'http1' as const;
  #url: URL;
  #agent: Agent;
  #open = new Set<IncomingMessage>();
  #disposed = false;

  constructor(opts: TransportOptions) {
    this.#url = parseServer(opts.server);
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: MAX_SOCKETS,
      ...(opts.caPem !== undefined ? { ca: opts.caPem } : {}),
      ...(opts.certPem !== undefined ? { cert: opts.certPem } : {}),
      ...(opts.keyPem !== undefined ? { key: opts.keyPem } : {}),
      rejectUnauthorized: opts.insecureSkipTLSVerify !== true,
    });
  }

  send(req: TransportRequest): Promise<TransportResponse> {
    if (this.#disposed) return Promise.reject(Object.assign(new Error('client is disposed'), { code: 'ECLIENTCLOSED' }));
    return new Promise<TransportResponse>((resolve, reject) => {
      const headers: Record<string, string> = { ...req.headers };
      if (req.body !== undefined) headers['content-length'] = String(req.body.length);
      const r = request({
        agent: this.#agent,
        protocol: 'https:',
        hostname: this.#url.hostname.replace(/^\[|\]$/g, ''),
        port: this.#url.port === '' ? 443 : Number(this.#url.port),
        method: req.method,
        path: req.path,
        headers,
        ...(req.signal ? { signal: req.signal } : {}),
      }, (res) => {
        this.#open.add(res);
        res.on('close', () => this.#open.delete(res));
        res.on('error', () => { /* reported by iteration */ });
        resolve({
          status: res.statusCode ?? 0,
          headers: flattenHeaders(res.headers),
          body: res,
          cancel: () => {
            if (!res.destroyed) res.destroy();
          },
        });
      });
      r.on('error', reject);
      r.end(req.body);
    });
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const res of this.#open) res.destroy();
    this.#open.clear();
    this.#agent.destroy();
  }
}
