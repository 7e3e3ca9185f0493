// End to end (root): Service networking on a real node. busybox pods reach Services by ClusterIP and
// DNS names through the iptables proxy and the cluster DNS; the host reaches NodePorts, LoadBalancers
// and the Ingress controller on 127.0.0.1; NetworkPolicies isolate pods; the DNS ConfigMap's stub
// domain forwards to a DNS server the test runs. Networking uses test-only addresses and chains.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import type { Service } from '../../src/api/types/core_v1.ts';
import { createCertificateAuthority, issueCertificate } from '../../src/base/pki.ts';
import { startE2ECluster, waitFor, TEST_IMAGE, type E2ECluster } from '../../src/testing/e2e_cluster.ts';

/** An HTTP server from busybox: answers its pod's host name on 8080 (and /cgi-bin scripts). */
const HOSTNAME_SERVER = 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www';

/** The textbook example's "database": one line per connection, from busybox nc. */
const DATABASE_SCRIPT = String.raw`printf '#!/bin/sh\necho "db: 42 rows"\n' > /db.sh && chmod +x /db.sh && exec nc -ll -p 5432 -e /db.sh`;
/** Its web tier: busybox httpd with a CGI script that asks the database by its Service name. */
const SHOP_SCRIPT = String.raw`mkdir -p /www/cgi-bin && cat > /www/cgi-bin/app <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "web $(hostname) -> $(nc database 5432 </dev/null)"
EOF
chmod +x /www/cgi-bin/app && exec httpd -f -p 8080 -h /www`;

function deployment(name: string, replicas: number, script: string, extra: Record<string, unknown> = {}, namespace = 'default'): string {
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra }] },
      },
    },
  });
}

function service(name: string, spec: Record<string, unknown>, namespace = 'default'): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec });
}

/** One HTTP GET from the host; resolves status and body. */
function httpGet(port: number, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** One DNS question to `server`:53 from the host (test-only address), answered or rejected. */
async function dnsQuery(server: string, name: string, type: string): Promise<dnsPacket.DecodedPacket> {
  const socket: Socket = createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no DNS answer for ${name} ${type}`)), 2000);
      socket.on('message', (msg) => { clearTimeout(timer); resolve(dnsPacket.decode(msg)); });
      socket.on('error', (err) => { clearTimeout(timer); reject(err); });
      socket.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as 'A', name }] }), 53, server);
    });
  } finally {
    socket.close();
  }
}

/** A DNS server the test owns: every A question under `zone` answers `ip`. */
async function startStubServer(zone: string, ip: string): Promise<{ port: number; close(): void }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    const answers: Answer[] = question && question.type === 'A' && question.name.endsWith(zone) ? [{ type: 'A', name: question.name, ttl: 5, data: ip }] : [];
    socket.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: q.questions, answers }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: socket.address().port, close: () => socket.close() };
}

describe('service networking (root)', { timeout: 400_000 }, () => {
  let c: E2ECluster;
  let dnsIP = '';
  let stub: { port: number; close(): void } | undefined;

  /** wget from the client pod; stdout, or '' when it failed. */
  async function wget(url: string, pod = 'client', namespace = 'default'): Promise<string> {
    // Not wget -T: Debian's static busybox 1.35 wget crashes with it; timeout(1) bounds it instead.
    const r = await c.exec(pod, ['timeout', '3', 'wget', '-q', '-O', '-', url], { namespace, allowFailure: true });
    return r.code === 0 ? r.stdout.trim() : '';
  }

  async function podIPs(selector: string, namespace = 'default'): Promise<string[]> {
    const r = await c.ts.request('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
    return r.json<{ items: Array<{ status?: { podIP?: string; phase?: string } }> }>().items.filter((p) => p.status?.phase === 'Running').map((p) => p.status!.podIP!).filter(Boolean).sort();
  }

  async function getService(name: string, namespace = 'default'): Promise<Service> {
    return (await c.ts.request('GET', `/api/v1/namespaces/${namespace}/services/${name}`)).json<Service>();
  }

  /** Hostnames answering `count` requests to `url` from the client pod, in one exec. */
  async function hostsAnswering(url: string, count: number, pod = 'client'): Promise<Map<string, number>> {
    const r = await c.exec(pod, ['sh', '-c', `for i in $(seq ${count}); do timeout 2 wget -q -O - ${url} || echo FAIL; done`]);
    const m = new Map<string, number>();
    for (const h of r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) m.set(h, (m.get(h) ?? 0) + 1);
    return m;
  }

  before(async () => {
    c = await startE2ECluster({ networking: true });
    dnsIP = c.agent.networking!.dns!.host;
    await c.apply(deployment('web', 3, HOSTNAME_SERVER, {
      readinessProbe: { exec: { command: ['sh', '-c', 'test ! -e /tmp/unready'] }, periodSeconds: 1, failureThreshold: 1 },
    }));
    await c.apply(service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }));
    await c.run('client', 'exec sleep 3600', { labels: { role: 'client' } });
    await c.waitRunning('client');
    await waitFor('3 web pods Running', async () => (await podIPs('app=web')).length === 3, 90_000);
  });

  /** This run's chain prefix (testNetworking's). */
  function tag(): string {
    return `E2E${Number(c.net.bridge.replace(/^\D+/, '')).toString(36).padStart(2, '0')}`;
  }

  after(async () => {
    stub?.close();
    if (!c) return;
    const dnsInterface = `tkd${c.net.bridge.replace(/^\D+/, '')}`;
    await c.stop();
    assert.ok(!execFileSync('ip', ['-4', 'addr', 'show'], { encoding: 'utf8' }).includes(` ${dnsIP}/32 `), 'the DNS address is removed');
    const left = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => l.includes(tag()));
    assert.deepEqual(left, [], 'iptables rules left behind');
    assert.throws(() => execFileSync('ip', ['link', 'show', dnsInterface], { stdio: 'ignore' }), 'the DNS interface is removed');
  });

  test('the kube-dns Service exists at the cluster DNS address and the DNS answers on it', async () => {
    const svc = await getService('kube-dns', 'kube-system');
    assert.equal(svc.spec?.clusterIP, dnsIP);
    const resolv = (await c.exec('client', ['cat', '/etc/resolv.conf'])).stdout;
    assert.match(resolv, new RegExp(`nameserver ${dnsIP.replaceAll('.', '\\.')}`));
    assert.match(resolv, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
  });

  test('a pod reaches a Service by ClusterIP, svc, svc.ns and the full name', async () => {
    const svc = await getService('web');
    const ip = svc.spec!.clusterIP!;
    const hosts = await waitFor('web answers on its ClusterIP', async () => (await wget(`http://${ip}/`)) || undefined, 30_000);
    assert.match(hosts, /^web-/);
    for (const name of ['web', 'web.default', 'web.default.svc.cluster.local']) {
      assert.match(await wget(`http://${name}/`), /^web-/, `wget http://${name}/`);
    }
  });

  test('requests to a ClusterIP are balanced: all 3 endpoints answer over 60 requests', async () => {
    const m = await hostsAnswering('http://web/', 60);
    assert.equal(m.get('FAIL'), undefined, JSON.stringify([...m]));
    assert.equal(m.size, 3, JSON.stringify([...m]));
  });

  test('an endpoint that turns unready stops getting traffic', async () => {
    const pods = (await c.ts.request('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).json<{ items: Array<{ metadata: { name: string } }> }>().items;
    const victim = pods[0]!.metadata.name;
    await c.exec(victim, ['touch', '/tmp/unready']);
    try {
      await waitFor('the unready pod out of the rotation', async () => {
        const m = await hostsAnswering('http://web/', 20);
        return !m.has(victim) && !m.has('FAIL') && m.size === 2;
      }, 30_000);
    } finally {
      await c.exec(victim, ['rm', '-f', '/tmp/unready']);
    }
    await waitFor('the pod back in the rotation', async () => (await hostsAnswering('http://web/', 30)).has(victim), 30_000);
  });

  test('sessionAffinity ClientIP sticks to one endpoint', async () => {
    await c.apply(service('web-sticky', { selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080 }] }));
    await waitFor('web-sticky answers', async () => (await wget('http://web-sticky/')) || undefined, 30_000);
    const m = await hostsAnswering('http://web-sticky/', 20);
    assert.equal(m.size, 1, JSON.stringify([...m]));
  });

  test('a headless Service and StatefulSet pod names resolve to pod IPs', async () => {
    await c.apply(service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] }));
    await c.apply(JSON.stringify({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
      spec: {
        serviceName: 'db', replicas: 2, selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } },
      },
    }));
    await c.waitRunning('db-0');
    const db1 = await c.waitRunning('db-1');
    const ips = await podIPs('app=db');
    assert.equal(ips.length, 2);
    const out = await waitFor('db resolves to both pods', async () => {
      const r = await c.exec('client', ['nslookup', 'db.default.svc.cluster.local'], { allowFailure: true });
      return ips.every((ip) => r.stdout.includes(ip)) ? r.stdout : undefined;
    }, 30_000);
    assert.ok(out);
    const one = await c.exec('client', ['nslookup', 'db-1.db.default.svc.cluster.local']);
    assert.match(one.stdout, new RegExp(`Address: ${db1.status!.podIP!.replaceAll('.', '\\.')}`));
  });

  test('SRV records name the ports of a Service', async () => {
    // busybox's nslookup asks for SRV itself; the host question checks the record's fields.
    const r = await c.exec('client', ['nslookup', '-type=srv', '_http._tcp.web.default.svc.cluster.local']);
    assert.match(r.stdout, /web\.default\.svc\.cluster\.local/);
    const reply = await dnsQuery(dnsIP, '_http._tcp.web.default.svc.cluster.local', 'SRV');
    const srv = reply.answers?.find((a) => a.type === 'SRV');
    assert.ok(srv && srv.type === 'SRV', JSON.stringify(reply.answers));
    assert.equal(srv.data.port, 80);
    assert.equal(srv.data.target, 'web.default.svc.cluster.local');
    const headless = await dnsQuery(dnsIP, '_pg._tcp.db.default.svc.cluster.local', 'SRV');
    assert.deepEqual(headless.answers?.filter((a) => a.type === 'SRV').map((a) => (a.data as { target: string }).target).sort(),
      ['db-0.db.default.svc.cluster.local', 'db-1.db.default.svc.cluster.local']);
  });

  test('NodePort and LoadBalancer Services answer on 127.0.0.1 from the host', async () => {
    await c.apply(service('web-np', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }));
    await c.apply(service('web-lb', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 38080, targetPort: 8080 }] }));
    const nodePort = (await getService('web-np')).spec!.ports![0]!.nodePort!;
    const np = await waitFor('NodePort answers', async () => {
      const r = await httpGet(nodePort).catch(() => undefined);
      return r?.status === 200 ? r.body : undefined;
    }, 30_000);
    assert.match(np, /^web-/);
    const lb = await waitFor('LoadBalancer status set', async () => {
      const s = await getService('web-lb');
      return s.status?.loadBalancer?.ingress?.length ? s : undefined;
    }, 30_000);
    assert.deepEqual(lb.status!.loadBalancer!.ingress!.map((i) => i.ip), ['127.0.0.1']);
    const body = await waitFor('LoadBalancer answers', async () => {
      const r = await httpGet(38080).catch(() => undefined);
      return r?.status === 200 ? r.body : undefined;
    }, 30_000);
    assert.match(body, /^web-/);
  });

  test('Ingress routes by host and path, and serves TLS from a Secret by SNI', async () => {
    const ing = c.agent.networking!.ingress!;
    await c.apply(deployment('other', 1, 'mkdir -p /www/api && echo other > /www/api/index.html && exec httpd -f -p 8080 -h /www'));
    await c.apply(service('other', { selector: { app: 'other' }, ports: [{ port: 80, targetPort: 8080 }] }));
    const ca = await createCertificateAuthority({ commonName: 'e2e-ingress-ca', days: 1 });
    const cert = await issueCertificate({ ca, commonName: 'shop.example.test', dnsNames: ['shop.example.test'], usages: 'server', days: 1 });
    await c.apply(JSON.stringify({
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-tls' }, type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') },
    }));
    await c.apply(JSON.stringify({
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'shop' },
      spec: {
        tls: [{ hosts: ['shop.example.test'], secretName: 'shop-tls' }],
        rules: [
          { host: 'shop.example.test', http: { paths: [
            { path: '/api', pathType: 'Prefix', backend: { service: { name: 'other', port: { number: 80 } } } },
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
          ] } },
        ],
      },
    }));
    const cls = (await c.ts.request('GET', '/apis/networking.k8s.io/v1/ingressclasses/tkube')).json<{ metadata: { annotations?: Record<string, string> } }>();
    assert.equal(cls.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true');
    const api = await waitFor('/api routed to other', async () => {
      const r = await httpGet(ing.httpPort, '/api/', { Host: 'shop.example.test' }).catch(() => undefined);
      return r?.status === 200 ? r.body : undefined;
    }, 30_000);
    assert.equal(api.trim(), 'other');
    assert.match((await httpGet(ing.httpPort, '/', { Host: 'shop.example.test' })).body, /^web-/);
    assert.equal((await httpGet(ing.httpPort, '/', { Host: 'nobody.example.test' })).status, 404);
    const tls = await new Promise<{ body: string; subject: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: ing.httpsPort, path: '/api/', servername: 'shop.example.test', headers: { Host: 'shop.example.test' }, ca: ca.certPem, agent: false }, (res) => {
        const subject = new X509Certificate((res.socket as TLSSocket).getPeerX509Certificate()!.raw).subject;
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve({ body, subject }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(tls.body.trim(), 'other');
    assert.match(tls.subject, /CN=shop\.example\.test/);
    await waitFor('Ingress status has the node address', async () => {
      const r = (await c.ts.request('GET', '/apis/networking.k8s.io/v1/namespaces/default/ingresses/shop')).json<{ status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }>();
      return r.status?.loadBalancer?.ingress?.[0]?.ip === '127.0.0.1';
    }, 30_000);
  });

  test('NetworkPolicy: deny-all isolates a pod, then allow-from-label lets labelled clients in', async () => {
    assert.equal((await c.ts.kubectl(['create', 'namespace', 'np'])).code, 0);
    await c.run('target', HOSTNAME_SERVER, { namespace: 'np', labels: { app: 'target' } });
    await c.run('friend', 'exec sleep 3600', { namespace: 'np', labels: { access: 'yes' } });
    await c.run('stranger', 'exec sleep 3600', { namespace: 'np' });
    const target = await c.waitRunning('target', { namespace: 'np' });
    await c.waitRunning('friend', { namespace: 'np' });
    await c.waitRunning('stranger', { namespace: 'np' });
    const url = `http://${target.status!.podIP!}:8080/`;
    assert.equal(await wget(url, 'stranger', 'np'), 'target');
    await c.apply(JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-all', namespace: 'np' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } }));
    await waitFor('deny-all in force', async () => (await wget(url, 'stranger', 'np')) === '', 30_000);
    assert.equal(await wget(url, 'friend', 'np'), '');
    await c.apply(JSON.stringify({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-friends', namespace: 'np' },
      spec: { podSelector: { matchLabels: { app: 'target' } }, ingress: [{ from: [{ podSelector: { matchLabels: { access: 'yes' } } }] }] },
    }));
    await waitFor('friends allowed', async () => (await wget(url, 'friend', 'np')) === 'target', 30_000);
    assert.equal(await wget(url, 'stranger', 'np'), '');
  });

  test('an ExternalName Service answers with a CNAME', async () => {
    await c.apply(service('alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }));
    const reply = await waitFor('alias resolves', async () => {
      const r = await dnsQuery(dnsIP, 'alias.default.svc.cluster.local', 'A');
      return r.answers?.length ? r : undefined;
    }, 30_000);
    const cname = reply.answers!.find((a) => a.type === 'CNAME');
    assert.equal(cname && 'data' in cname ? cname.data : undefined, 'web.default.svc.cluster.local');
    // The full name: for a short one busybox also tries the other search domains and exits 1.
    const r = await c.exec('client', ['nslookup', 'alias.default.svc.cluster.local']);
    assert.match(r.stdout, /canonical name = web\.default\.svc\.cluster\.local/);
    assert.match(await wget('http://alias/'), /^web-/);
  });

  test('a stub domain in the kube-dns ConfigMap forwards to the DNS server it names', async () => {
    stub = await startStubServer('stub.test', '192.0.2.77');
    await c.apply(JSON.stringify({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-dns', namespace: 'kube-system' },
      data: { stubDomains: JSON.stringify({ 'stub.test': [`127.0.0.1:${stub.port}`] }) },
    }));
    const out = await waitFor('the stub domain answers from a pod', async () => {
      const r = await c.exec('client', ['nslookup', 'db.stub.test'], { allowFailure: true });
      return r.stdout.includes('192.0.2.77') ? r.stdout : undefined;
    }, 30_000);
    assert.match(out, /Address: 192\.0\.2\.77/);
    // Names outside the cluster and every stub domain are not forwarded in tests.
    assert.equal((await dnsQuery(dnsIP, 'example.com', 'A') as dnsPacket.DecodedPacket & { rcode?: string }).rcode, 'SERVFAIL');
  });

  test('the textbook example: a web Deployment reaches its database by Service name, the host reaches web through a NodePort', async () => {
    // The "database": answers one line per connection. The web tier's CGI asks it by Service name.
    await c.apply(deployment('database', 1, DATABASE_SCRIPT));
    await c.apply(service('database', { selector: { app: 'database' }, ports: [{ port: 5432, targetPort: 5432 }] }));
    await c.apply(deployment('shop', 2, SHOP_SCRIPT));
    await c.apply(service('shop', { type: 'NodePort', selector: { app: 'shop' }, ports: [{ port: 80, targetPort: 8080 }] }));
    const nodePort = (await getService('shop')).spec!.ports![0]!.nodePort!;
    const body = await waitFor('the shop answers through its NodePort with data from the database', async () => {
      const r = await httpGet(nodePort, '/cgi-bin/app');
      if (r.status !== 200 || !r.body.includes('db: 42 rows')) throw new Error(`HTTP ${r.status}: ${r.body}`);
      return r.body;
    }, 90_000);
    assert.match(body, /^web shop-\S+ -> db: 42 rows/);
  });

  test('our iptables chains carry the test prefix (a real agent\'s KUBE- chains are never touched)', () => {
    const saved = execFileSync('iptables-save', { encoding: 'utf8' });
    assert.match(saved, new RegExp(`:${tag()}K-SERVICES `));
    assert.match(saved, new RegExp(`:${tag()}-NETPOL-FORWARD `));
  });
});
