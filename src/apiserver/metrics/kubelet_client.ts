// Fetches a node's /metrics/resource from its kubelet over the API server's kubelet client TLS
// (the same KubeletDialer pods/log and exec use), within a deadline, and decodes it.
import { request as httpsRequest } from 'node:https';
import type { KubeletDialer } from '../handlers/pod_proxy.ts';
import { decodeBatch } from './decode.ts';
import type { MetricsBatch } from './types.ts';

/** Largest /metrics/resource body accepted (a node with thousands of containers stays far below). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** GET a path of a node's kubelet and return the body; rejects on non-200, timeout or a too-large body. */
export async function getFromKubelet(dialer: KubeletDialer, nodeName: string, path: string, timeoutMs: number): Promise<string> {
  const loc = await dialer.locate(nodeName);
  const url = new URL(path, loc.url);
  return new Promise<string>((resolve, reject) => {
    const req = httpsRequest(url, {
      method: 'GET',
      ...(loc.tls ? { cert: loc.tls.certPem, key: loc.tls.keyPem, ...(loc.tls.caPem ? { ca: loc.tls.caPem } : { rejectUnauthorized: false }) } : {}),
      headers: { Accept: 'text/plain' },
      agent: false,
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy(new Error(`response larger than ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`request failed, status: "${res.statusCode ?? 0} ${res.statusMessage ?? ''}"`));
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Scrapes one node's resource metrics. */
export async function scrapeKubelet(dialer: KubeletDialer, nodeName: string, timeoutMs: number): Promise<MetricsBatch> {
  const requestTime = Date.now();
  const text = await getFromKubelet(dialer, nodeName, '/metrics/resource', timeoutMs);
  return decodeBatch(text, requestTime, nodeName);
}
