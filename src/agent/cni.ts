// The pod network config containerd's CRI plugin hands to CNI: bridge (with host-local IPAM on the
// node's pod CIDR, state under DATA/agent/cni) chained with portmap for hostPorts. containerd adds
// the loopback interface itself, so no loopback entry is needed here.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerdPaths } from './containerd_config.ts';

/** Options of the bridge network. */
export interface BridgeNetworkOptions {
  /** The node's pod CIDR, e.g. "10.42.0.0/24". */
  readonly podCIDR: string;
  /** Bridge device (default "tkube0"). */
  readonly bridge?: string;
  /** Network name (default "tkube"). */
  readonly name?: string;
  /** Masquerade traffic leaving the pod CIDR (default true; tests that stay on the bridge turn it off). */
  readonly ipMasq?: boolean;
  readonly mtu?: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Renders the CNI conflist for the bridge network. */
export function renderBridgeConflist(o: BridgeNetworkOptions, ipamDataDir: string): string {
  const m = CIDR.exec(o.podCIDR);
  if (!m || m.slice(1, 5).some((x) => Number(x) > 255) || Number(m[5]) > 30) {
    throw new Error(`BridgeNetworkOptions.podCIDR: want an IPv4 CIDR up to /30, got ${JSON.stringify(o.podCIDR)}`);
  }
  const bridge = o.bridge ?? 'tkube0';
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) throw new Error(`BridgeNetworkOptions.bridge: invalid device name ${JSON.stringify(bridge)}`);
  const conf = {
    cniVersion: '1.0.0',
    name: o.name ?? 'tkube',
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: o.ipMasq ?? true,
        hairpinMode: true,
        ...(o.mtu ? { mtu: o.mtu } : {}),
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: o.podCIDR }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: ipamDataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return JSON.stringify(conf, null, 2) + '\n';
}

/** Writes the bridge conflist as the only network config in the CNI conf dir. */
export function writeBridgeNetwork(paths: ContainerdPaths, o: BridgeNetworkOptions): string {
  mkdirSync(paths.cniConfDir, { recursive: true });
  mkdirSync(paths.cniDataDir, { recursive: true });
  // containerd loads the first file by name: leave no older config to win over this one
  for (const f of readdirSync(paths.cniConfDir)) rmSync(join(paths.cniConfDir, f), { force: true });
  const file = join(paths.cniConfDir, '10-tkube.conflist');
  writeFileSync(file, renderBridgeConflist(o, paths.cniDataDir));
  return file;
}
