// For controller unit tests: a REST client that records requests instead of sending them, and a
// ControllerContext around it with hand-filled informers, a fake clock and a fake event recorder.
import { FakeClock, type Clock } from '../client/clock.ts';
import type { EventRecorder } from '../client/events.ts';
import { FakeRecorder } from '../client/fake_recorder.ts';
import { SharedInformerFactory } from '../client/informer_factory.ts';
import { RestClient, type RequestOptions } from '../client/rest_client.ts';
import type { ControllerContext } from './registry.ts';

/** One request the controller made. */
export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly body: any;
  readonly query: any;
}

/** Records every request; answers with `reply` (by default the request's body, as a write echoes it). */
export class RecordingClient extends RestClient {
  readonly calls: RecordedCall[] = [];
  reply: (opts: RequestOptions) => unknown = (opts) => opts.body;

  constructor() {
    super({ server: 'https://127.0.0.1:1' });
  }

  override async request<T>(opts: RequestOptions): Promise<T> {
    this.calls.push({ method: opts.method, path: opts.path, body: opts.body, query: opts.query });
    return this.reply(opts) as T;
  }
}

/** A controller context over `api` with the tkube default CIDRs unless given. */
export function fakeControllerContext(api: RestClient, opts: { clock?: Clock; recorder?: EventRecorder; clusterCidr?: string; rootCaPem?: string } = {}): ControllerContext {
  const recorder = opts.recorder;
  return {
    client: api, informers: new SharedInformerFactory(api), recorder: () => recorder ?? new FakeRecorder(), clock: opts.clock ?? new FakeClock(),
    options: { clusterCidr: opts.clusterCidr ?? '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: opts.rootCaPem ?? '' },
  };
}
