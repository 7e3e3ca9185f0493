// System packages a node and the test suite need. As root on Debian, missing ones are installed
// with apt-get (first run); otherwise tkube says exactly what is missing and how to get it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { logger } from '../base/log.ts';

const log = logger('prereqs');

/** A Debian package and a file whose presence shows it is installed. */
export interface Prerequisite {
  readonly pkg: string;
  readonly probe: string;
}

/** What a node needs to run real pods. */
export const NODE_PACKAGES: readonly Prerequisite[] = [
  { pkg: 'containerd', probe: '/usr/bin/containerd' },
  { pkg: 'runc', probe: '/usr/sbin/runc' },
  { pkg: 'containernetworking-plugins', probe: '/usr/lib/cni/bridge' },
  { pkg: 'iptables', probe: '/usr/sbin/iptables' },
  { pkg: 'busybox-static', probe: '/bin/busybox' },
  { pkg: 'iproute2', probe: '/usr/sbin/ip' },
  { pkg: 'conntrack', probe: '/usr/sbin/conntrack' },
];

/** What the test suite needs beyond a node's packages. */
export const TEST_PACKAGES: readonly Prerequisite[] = [
  ...NODE_PACKAGES,
  { pkg: 'etcd-server', probe: '/usr/bin/etcd' },
];

/** Installs what is missing when root on Debian; returns the packages still missing. */
export function ensurePackages(wanted: readonly Prerequisite[]): string[] {
  const missing = wanted.filter((p) => !existsSync(p.probe)).map((p) => p.pkg);
  if (missing.length === 0) return [];
  const isRoot = process.getuid?.() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (!isRoot || !hasApt) {
    log.warn(`missing system packages: ${missing.join(' ')}; install them with: apt-get install -y ${missing.join(' ')}` +
      (isRoot ? ' (no apt-get on this machine)' : ' (tkube installs them itself when run as root)'));
    return missing;
  }
  log.info(`first run: installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (update.status !== 0) log.warn('apt-get update failed; trying the install with the package lists as they are');
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (install.status !== 0) log.warn(`apt-get install ${missing.join(' ')} failed (exit ${install.status})`);
  return wanted.filter((p) => !existsSync(p.probe)).map((p) => p.pkg);
}
