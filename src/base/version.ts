// The version tkube reports. kubectl's dispatcher picks its binary from major/minor, so these must
// say "1" and "32" (CLIENT-COMPAT.md §0); gitVersion stays valid semver for kubectl's skew check.

/** tkube's own release. */
export const TKUBE_VERSION = '0.1.0';
/** The Kubernetes release whose API tkube serves. */
export const KUBERNETES_VERSION = 'v1.32.4';

/** The /version document (all nine fields, as clients require). */
export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '32',
    gitVersion: `${KUBERNETES_VERSION}+tkube`,
    gitCommit: 'tkube-' + TKUBE_VERSION,
    gitTreeState: 'clean',
    buildDate: '2026-11-26T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsx',
    platform: `${process.platform === 'win32' ? 'windows' : process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
