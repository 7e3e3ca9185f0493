// An EventRecorder that only remembers "Type Reason Message" lines (client-go record.FakeRecorder),
// for unit tests of controllers that assert on the events they emit without a server.
import type { ObjectReference } from '../api/types/core_v1.ts';
import type { EventRecorder } from './events.ts';
import type { KubeObject } from './resource_client.ts';
import { sprintf } from './sprintf.ts';

/** Collects events as strings. */
export class FakeRecorder implements EventRecorder {
  /** "Normal SuccessfulCreate Created pod: web-abc12", in order. */
  readonly events: string[] = [];
  /** The objects the events were about, index-aligned with `events`. */
  readonly objects: (KubeObject | ObjectReference)[] = [];

  event(obj: KubeObject | ObjectReference, type: string, reason: string, message: string): void {
    this.events.push(`${type} ${reason} ${message}`);
    this.objects.push(obj);
  }

  eventf(obj: KubeObject | ObjectReference, type: string, reason: string, format: string, ...args: unknown[]): void {
    this.event(obj, type, reason, sprintf(format, ...args));
  }

  annotatedEventf(obj: KubeObject | ObjectReference, _annotations: Record<string, string>, type: string, reason: string, format: string, ...args: unknown[]): void {
    this.event(obj, type, reason, sprintf(format, ...args));
  }
}
