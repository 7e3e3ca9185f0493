// Service networking of one node, started by the agent: the Service proxy (iptables), the cluster
// DNS answering on the kube-dns address held by a dummy interface, the built-in Ingress controller,
// NetworkPolicy enforcement and the built-in service load balancer's status writer. Each piece can
// be switched off. dispose() stops them and removes the DNS address; iptables rules, the blackhole
// route and sysctls stay for the next start to rebuild (as upstream), unless cleanupOnDispose.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import type { Disposable } from '../base/disposable.ts';
import { DisposableStore } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { SharedInformerFactory } from '../client/informer_factory.ts';
import type { KubeObject } from '../client/resource_client.ts';
import type { RestClient } from '../client/rest_client.ts';
import { upstreamsFromResolvConf, type Upstream } from '../dns/dns_config.ts';
import { informerDnsSource, watchDnsConfigMap } from '../dns/informer_source.ts';
import { ensureKubeDnsService } from '../dns/kube_dns_service.ts';
import { DnsIndex, followSource } from '../dns/records.ts';
import { startDnsServer, type DnsServer } from '../dns/server.ts';
import { startIngressController, type IngressController } from '../ingress/ingress_controller.ts';
import { NetworkPolicyEnforcer } from '../netpol/enforcer.ts';
import { feedEnforcer } from '../netpol/enforcer_source.ts';
import { renamingRunner } from '../proxy/chain_rename.ts';
import { execRunner } from '../proxy/iptables.ts';
import { SYSCTL_BRIDGE_NF_CALL_IPTABLES, SYSCTL_ROUTE_LOCALNET, clusterBlackholeCIDRs, ensureBlackholeRoutes, ensureSysctl, readSysctl, removeBlackholeRoutes } from '../proxy/node_net.ts';
import { Proxier } from '../proxy/proxier.ts';
import { feedProxier } from '../proxy/proxy_source.ts';
import { ServiceLBController } from '../proxy/service_lb_controller.ts';
import type { CommandRunner } from '../proxy/types.ts';

const log = logger('networking');

/** Which pieces run and how; every piece is on unless switched off. */
export interface NetworkingOptions {
  /** Service proxy: ClusterIP, NodePort (also on 127.0.0.1), LoadBalancer and externalIP rules. */
  readonly proxy?: boolean;
  /** Cluster DNS on the cluster DNS address (and the kube-dns Service in kube-system). */
  readonly dns?: boolean;
  /** Built-in Ingress controller for IngressClass `tkube`. */
  readonly ingress?: boolean;
  readonly networkPolicy?: boolean;
  /** Built-in service load balancer status writer (status.loadBalancer.ingress = node IPs). */
  readonly serviceLB?: boolean;
  /** Service ClusterIP range (default 10.43.0.0/16); unallocated addresses in it are rejected. */
  readonly serviceCIDR?: string;
  /** Dummy interface holding the DNS address (default tkube-dns0). */
  readonly dnsInterface?: string;
  /** Forward names outside the cluster to the node's resolv.conf nameservers (default true; off in tests). */
  readonly dnsUpstream?: boolean;
  /** Ingress listeners (defaults 80, 443 on every address; 0 picks a free port). */
  readonly ingressHttpPort?: number;
  readonly ingressHttpsPort?: number;
  readonly ingressBindAddress?: string;
  /** Blackhole route for the cluster pod CIDR (default true). */
  readonly blackholeRoutes?: boolean;
  /** Least time between proxy syncs (default 1000 ms, upstream's). */
  readonly proxyMinSyncPeriodMs?: number;
  /**
   * Tests: our iptables chains live on the host as `<tag>K-...` (proxy) and `<tag>-...` (policies)
   * rather than KUBE-/TKUBE-, so a real agent's chains are never touched. Up to 5 letters/digits.
   */
  readonly chainTag?: string;
  /** Tests: also remove our iptables chains, the blackhole route and the route_localnet change on dispose. */
  readonly cleanupOnDispose?: boolean;
}

/** What startNetworking needs from the agent besides the options. */
export interface NetworkingContext {
  readonly client: RestClient;
  readonly nodeName: string;
  readonly nodeIP: string;
  /** Cluster pod CIDR (masquerade decisions, blackhole route). */
  readonly clusterCIDR: string;
  /** The cluster DNS address (kube-dns Service IP) and domain. */
  readonly clusterDNS: string;
  readonly clusterDomain: string;
}

/** The running pieces (undefined when switched off or failed to start). */
export interface Networking extends Disposable {
  readonly proxier: Proxier | undefined;
  readonly dns: DnsServer | undefined;
  readonly ingress: IngressController | undefined;
  readonly enforcer: NetworkPolicyEnforcer | undefined;
  readonly serviceLB: ServiceLBController | undefined;
  dispose(): Promise<void>;
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function run(cmd: string, args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8' }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127) : 0, stderr: stderr || (err ? err.message : '') });
    });
  });
}

/**
 * Puts `ip`/32 on dummy interface `ifname` (created if missing) and brings it up; on kernels without
 * the dummy driver, on the loopback device labelled lo:<ifname> instead. Returns the undo.
 */
export async function ensureDnsAddress(ifname: string, ip: string): Promise<() => Promise<void>> {
  const add = await run('ip', ['link', 'add', ifname, 'type', 'dummy']);
  if (add.code !== 0 && /Unknown device type|not supported/i.test(add.stderr)) {
    const label = `lo:${ifname}`.slice(0, 15);
    const r = await run('ip', ['addr', 'replace', `${ip}/32`, 'dev', 'lo', 'label', label]);
    if (r.code !== 0) throw new Error(`ip addr replace ${ip}/32 dev lo: ${r.stderr.trim()}`);
    log.info('no dummy interface driver: the DNS address lives on the loopback device', { address: ip, label });
    return async () => {
      const d = await run('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo']);
      if (d.code !== 0 && !/Cannot assign|not found/i.test(d.stderr)) log.warn('could not remove the DNS address', { address: ip, err: d.stderr.trim() });
    };
  }
  if (add.code !== 0 && !/exists/i.test(add.stderr)) throw new Error(`ip link add ${ifname} type dummy: ${add.stderr.trim()}`);
  for (const args of [['addr', 'replace', `${ip}/32`, 'dev', ifname], ['link', 'set', ifname, 'up']]) {
    const r = await run('ip', args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  }
  return async () => {
    const r = await run('ip', ['link', 'del', ifname]);
    if (r.code !== 0 && !/Cannot find device|does not exist/i.test(r.stderr)) log.warn('could not remove the DNS interface', { ifname, err: r.stderr.trim() });
  };
}

function validate(o: NetworkingOptions, ctx: NetworkingContext): void {
  if (!isIPv4(ctx.clusterDNS)) throw new Error(`clusterDNS: want an IPv4 address, got ${JSON.stringify(ctx.clusterDNS)}`);
  if (o.dnsInterface !== undefined && !IFNAME.test(o.dnsInterface)) throw new Error(`NetworkingOptions.dnsInterface: invalid device name ${JSON.stringify(o.dnsInterface)}`);
  if (o.chainTag !== undefined && !/^[A-Za-z0-9]{1,5}$/.test(o.chainTag)) throw new Error(`NetworkingOptions.chainTag: want 1-5 letters or digits, got ${JSON.stringify(o.chainTag)}`);
  for (const k of ['ingressHttpPort', 'ingressHttpsPort'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 65535)) throw new Error(`NetworkingOptions.${k}: want a port number, got ${v}`);
  }
}

function dropManagedFields(obj: KubeObject): KubeObject {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _drop, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function nodeUpstreams(exclude: string): Upstream[] {
  try {
    return upstreamsFromResolvConf(readFileSync('/etc/resolv.conf', 'utf8'), [exclude]);
  } catch {
    return [];
  }
}

/** Starts the switched-on pieces; on failure, stops what started and rethrows. */
export async function startNetworking(ctx: NetworkingContext, o: NetworkingOptions = {}): Promise<Networking> {
  validate(o, ctx);
  const owner = new DisposableStore();
  const cleanup = o.cleanupOnDispose ?? false;
  const host = execRunner();
  const proxyRunner: CommandRunner = o.chainTag ? renamingRunner(host, { from: 'KUBE-', to: `${o.chainTag}K-` }) : host;
  const netpolRunner: CommandRunner = o.chainTag ? renamingRunner(host, { from: 'TKUBE-', to: `${o.chainTag}-` }) : host;
  let proxier: Proxier | undefined;
  let dns: DnsServer | undefined;
  let ingress: IngressController | undefined;
  let enforcer: NetworkPolicyEnforcer | undefined;
  let serviceLB: ServiceLBController | undefined;
  try {
    const factory = new SharedInformerFactory(ctx.client, { transform: dropManagedFields });
    // Disposed last of the API pieces (added first): the handlers below stop before the informers.
    owner.add(factory);

    if (o.dns ?? true) {
      const ifname = o.dnsInterface ?? 'tkube-dns0';
      // Without it pods still resolve (the address is ours); a node that may not create it says so.
      await ensureKubeDnsService(ctx.client, ctx.clusterDNS).catch((err: unknown) => log.warn('could not ensure the kube-dns Service', { err: err instanceof Error ? err.message : String(err) }));
      owner.defer(await ensureDnsAddress(ifname, ctx.clusterDNS));
      const index = new DnsIndex({ zone: ctx.clusterDomain, nameservers: [ctx.clusterDNS] });
      owner.add(followSource(index, informerDnsSource(factory)));
      const server = owner.add(await startDnsServer({ host: ctx.clusterDNS, port: 53, index }));
      dns = server;
      owner.add(watchDnsConfigMap(factory, {
        clusterDomain: ctx.clusterDomain,
        nodeUpstreams: (o.dnsUpstream ?? true) ? nodeUpstreams(ctx.clusterDNS) : [],
        onConfig: (config) => server.setForwardConfig(config),
      }));
      log.info('cluster DNS serving', { address: `${ctx.clusterDNS}:53`, interface: ifname });
    }

    if ((o.proxy ?? true) || (o.networkPolicy ?? true)) {
      // Pod-to-pod traffic on the bridge must traverse iptables, or replies from a Service's
      // endpoint skip the un-DNAT and policies never see it (k3s sets it as well).
      const bridged = await readSysctl(host, SYSCTL_BRIDGE_NF_CALL_IPTABLES);
      if (bridged === '0') {
        await ensureSysctl(host, SYSCTL_BRIDGE_NF_CALL_IPTABLES, '1');
        log.info(`set ${SYSCTL_BRIDGE_NF_CALL_IPTABLES}=1 for Service and policy rules on bridged traffic`);
        if (cleanup) owner.defer(async () => { await host.run('sysctl', ['-qw', `${SYSCTL_BRIDGE_NF_CALL_IPTABLES}=0`]); });
      } else if (bridged === undefined) {
        log.warn(`${SYSCTL_BRIDGE_NF_CALL_IPTABLES} is missing (br_netfilter not loaded): Services between pods of this node may not answer`);
      }
    }

    if (o.proxy ?? true) {
      const before = cleanup ? await readSysctl(host, SYSCTL_ROUTE_LOCALNET) : undefined;
      const nodePortAddresses = [...new Set([ctx.nodeIP, '127.0.0.1'])];
      const p = await Proxier.create({
        node: { name: ctx.nodeName, ips: [ctx.nodeIP], clusterCIDR: ctx.clusterCIDR, serviceCIDR: o.serviceCIDR ?? '10.43.0.0/16' },
        runner: proxyRunner,
        rules: { nodePortAddresses },
        ...(o.proxyMinSyncPeriodMs !== undefined ? { minSyncPeriodMs: o.proxyMinSyncPeriodMs } : {}),
      });
      proxier = p;
      if (cleanup) {
        owner.defer(async () => {
          await p.iptables.cleanup();
          if (before !== undefined && before !== '1') await host.run('sysctl', ['-qw', `${SYSCTL_ROUTE_LOCALNET}=${before}`]);
        });
      }
      owner.add(p);
      owner.add(feedProxier(factory, p));
      if (o.blackholeRoutes ?? true) {
        const cidrs = clusterBlackholeCIDRs({ clusterCIDR: ctx.clusterCIDR });
        await ensureBlackholeRoutes(host, cidrs);
        if (cleanup) owner.defer(() => removeBlackholeRoutes(host, cidrs));
      }
    }

    if (o.serviceLB ?? true) {
      const c = new ServiceLBController(ctx.client, factory);
      owner.add(c);
      c.run();
      serviceLB = c;
    }

    if (o.networkPolicy ?? true) {
      const e = await NetworkPolicyEnforcer.create({ nodeName: ctx.nodeName, runner: netpolRunner });
      enforcer = e;
      if (cleanup) owner.defer(() => e.iptables.cleanup());
      owner.add(e);
      owner.add(feedEnforcer(factory, e));
    }

    factory.start();

    if (o.ingress ?? true) {
      try {
        ingress = owner.add(await startIngressController({
          client: ctx.client, nodeName: ctx.nodeName, nodeIPs: [ctx.nodeIP],
          httpPort: o.ingressHttpPort ?? 80, httpsPort: o.ingressHttpsPort ?? 443,
          ...(o.ingressBindAddress !== undefined ? { bindAddress: o.ingressBindAddress } : {}),
        }));
      } catch (err) {
        // A web server already on :80 should not keep the node from running pods.
        log.error('the ingress controller could not start; pick other ports or disable it', { err: err instanceof Error ? err.message : String(err) });
      }
    }
    log.info('service networking running', {
      proxy: proxier !== undefined, dns: dns !== undefined, ingress: ingress ? `${ingress.httpPort}/${ingress.httpsPort}` : false,
      networkPolicy: enforcer !== undefined, serviceLB: serviceLB !== undefined,
    });
    return { proxier, dns, ingress, enforcer, serviceLB, dispose: () => owner.dispose() };
  } catch (err) {
    await owner.dispose().catch((e: unknown) => log.warn('cleanup after a failed start failed', { err: e }));
    throw err;
  }
}
