// Entry of an ingress proxy worker process (forked by proxy_workers.ts): runs one IngressProxy on
// the ports the cluster shares, and swaps in each routing snapshot the controller sends.
import cluster from 'node:cluster';
import { logger } from '../base/log.ts';
import { certTableFromPems, type ServedCertificate } from './certificates.ts';
import { IngressProxy, type ProxySnapshot } from './proxy.ts';
import type { FromWorker, ToWorker, WireSnapshot } from './proxy_workers.ts';

const log = logger('ingress-worker');

function main(): void {
  const contexts = new Map<string, ServedCertificate>();
  const fromWire = (w: WireSnapshot): ProxySnapshot => ({ routes: w.routes, certs: certTableFromPems(w.tls, contexts) });
  let proxy: IngressProxy | undefined;
  const send = (m: FromWorker): void => {
    process.send?.(m);
  };
  process.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'init': {
        proxy = new IngressProxy(fromWire(m.snapshot), m.options);
        proxy.listen().then(
          () => send({ type: 'ready', httpPort: proxy!.httpPort, httpsPort: proxy!.httpsPort }),
          (err: unknown) => send({ type: 'failed', error: err instanceof Error ? err.message : String(err) }),
        );
        break;
      }
      case 'snapshot':
        proxy?.setSnapshot(fromWire(m.snapshot));
        break;
      case 'stop':
        void (proxy?.dispose() ?? Promise.resolve()).finally(() => process.exit(0));
        break;
    }
  });
  send({ type: 'hello' });
  // Losing the primary means nobody will send routes or stop us: leave.
  process.on('disconnect', () => {
    void (proxy?.dispose() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}

if (cluster.isWorker) main();
else log.error('proxy_worker.ts runs only as a cluster worker of the ingress controller');
