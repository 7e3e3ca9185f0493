// Runs the enabled admission plugins: every mutating plugin in order, then every validating one,
// in upstream's recommended plugin order (kube-apiserver's AllOrderedPlugins).
import type { AdmissionAttributes, AdmissionLister, AdmissionPlugin } from './types.ts';
import { admissionPluginFactory } from './types.ts';

/** Upstream's order; plugins not registered yet are skipped. */
export const ORDERED_PLUGINS: readonly string[] = [
  'NamespaceLifecycle', 'LimitRanger', 'ServiceAccount', 'NodeRestriction', 'TaintNodesByCondition', 'PodSecurity',
  'Priority', 'DefaultTolerationSeconds', 'PodTopologyLabels', 'PersistentVolumeClaimResize', 'RuntimeClass',
  'DefaultStorageClass', 'StorageObjectInUseProtection', 'DefaultIngressClass', 'MutatingAdmissionWebhook',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionWebhook', 'ResourceQuota',
];

/** The chain of enabled plugins. */
export class AdmissionChain {
  readonly plugins: readonly AdmissionPlugin[];

  constructor(enabled: readonly string[] = ORDERED_PLUGINS, opts: Readonly<Record<string, unknown>> = {}) {
    const wanted = new Set(enabled);
    this.plugins = ORDERED_PLUGINS.filter((n) => wanted.has(n)).flatMap((n) => {
      const f = admissionPluginFactory(n);
      return f ? [f(opts)] : [];
    });
  }

  /** Mutating phase. */
  async admit(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
    for (const p of this.plugins) if (p.admit && p.handles(a)) await p.admit(a, lister);
  }

  /** Validating phase. */
  async validate(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
    for (const p of this.plugins) if (p.validate && p.handles(a)) await p.validate(a, lister);
  }
}
