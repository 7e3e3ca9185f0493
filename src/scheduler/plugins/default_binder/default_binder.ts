// DefaultBinder (plugins/defaultbinder): binds the pod through the Binder seam, which the wiring
// implements as a POST to pods/binding.

import type { Pod } from '../../../api/types/core_v1.ts';
import type { CycleState } from '../../framework/cycle_state.ts';
import { asStatus, type BindPlugin, type Handle, type Plugin, type PluginStatus } from '../../framework/interface.ts';

export const Name = 'DefaultBinder';

/** Binds through the handle's Binder. */
export class DefaultBinder implements BindPlugin {
  readonly name = Name;
  private readonly handle: Handle;

  constructor(handle: Handle) {
    this.handle = handle;
  }

  async bind(_state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus> {
    try {
      await this.handle.binder.bind(pod, nodeName);
      return null;
    } catch (err) {
      return asStatus(err);
    }
  }
}

export function newDefaultBinder(_args: unknown, handle: Handle): Plugin {
  return new DefaultBinder(handle);
}
