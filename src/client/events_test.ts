// The event recorder against the real API server (a repeated event becomes one Event whose count
// and lastTimestamp grow; similar events with many messages are combined; a deleted Event is
// recreated), and against a fake sink (spam filter, retries, dropped malformed events).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Event } from '../api/types/core_v1.ts';
import { startTestServer, type TestServer } from '../testing/test_server.ts';
import { FakeClock } from './clock.ts';
import { EventBroadcaster, type EventSink } from './events.ts';
import { FakeRecorder } from './fake_recorder.ts';
import { RestClient } from './rest_client.ts';
import { resourceDescriptor } from './resource_descriptor.ts';

const EVENTS = resourceDescriptor('v1', 'events');
const CONFIGMAPS = resourceDescriptor('v1', 'configmaps');
const NAMESPACES = resourceDescriptor('v1', 'namespaces');

let server: TestServer;
let client: RestClient;

before(async () => {
  server = await startTestServer();
  client = await RestClient.fromKubeconfig(server.kubeconfig);
});

after(async () => {
  await client.dispose();
  await server.stop();
});

async function subject(ns: string): Promise<ConfigMap> {
  await client.resource(NAMESPACES).create({ metadata: { name: ns } });
  return client.resource<ConfigMap>(CONFIGMAPS, ns).create({ metadata: { name: 'subject' } });
}

async function eventsIn(ns: string): Promise<Event[]> {
  return (await client.resource<Event>(EVENTS, ns).list()).items;
}

describe('EventBroadcaster writing to the API', () => {
  test('the same event twice becomes one Event with count 2 and a later lastTimestamp', async () => {
    const obj = await subject('ev-dedup');
    const clock = new FakeClock(Date.UTC(2024, 0, 1, 12, 0, 0));
    const b = new EventBroadcaster({ client, clock });
    try {
      const rec = b.newRecorder({ component: 'replicaset-controller' });
      rec.event(obj, 'Normal', 'SuccessfulCreate', 'Created pod: web-1');
      await b.flush();
      clock.step(5000);
      rec.eventf(obj, 'Normal', 'SuccessfulCreate', 'Created pod: %v', 'web-1');
      await b.flush();
      const events = await eventsIn('ev-dedup');
      assert.equal(events.length, 1);
      const ev = events[0]!;
      assert.equal(ev.count, 2);
      assert.equal(ev.firstTimestamp, '2024-01-01T12:00:00Z');
      assert.equal(ev.lastTimestamp, '2024-01-01T12:00:05Z');
      assert.match(ev.metadata.name ?? '', /^subject\.[0-9a-f]+$/);
      assert.equal(ev.metadata.name, `subject.${(BigInt(Date.UTC(2024, 0, 1, 12, 0, 0)) * 1_000_000n).toString(16)}`);
      assert.equal(ev.type, 'Normal');
      assert.equal(ev.reason, 'SuccessfulCreate');
      assert.equal(ev.message, 'Created pod: web-1');
      assert.deepEqual(ev.source, { component: 'replicaset-controller' });
      assert.equal(ev.reportingComponent, 'replicaset-controller');
      assert.deepEqual(ev.involvedObject, {
        kind: 'ConfigMap', namespace: 'ev-dedup', name: 'subject', uid: obj.metadata!.uid,
        apiVersion: 'v1', resourceVersion: obj.metadata!.resourceVersion,
      });

      rec.event(obj, 'Warning', 'FailedCreate', 'quota exceeded');
      await b.flush();
      assert.equal((await eventsIn('ev-dedup')).length, 2, 'a different reason is a different Event');
    } finally {
      await b.dispose();
    }
  });

  test('similar events with ten different messages are combined into one aggregate Event', async () => {
    const obj = await subject('ev-aggregate');
    const b = new EventBroadcaster({ client, clock: new FakeClock() });
    try {
      const rec = b.newRecorder({ component: 'test' });
      for (let i = 0; i < 11; i++) rec.event(obj, 'Warning', 'FailedSync', `attempt ${i}`);
      await b.flush();
      const events = await eventsIn('ev-aggregate');
      const combined = events.filter((e) => e.message?.startsWith('(combined from similar events): '));
      assert.equal(events.length, 10, events.map((e) => e.message).join('\n'));
      assert.equal(combined.length, 1);
      assert.equal(combined[0]!.count, 2);
      assert.equal(combined[0]!.message, '(combined from similar events): attempt 10');
    } finally {
      await b.dispose();
    }
  });

  test('an Event deleted meanwhile is created again on the next repeat', async () => {
    const obj = await subject('ev-recreate');
    const b = new EventBroadcaster({ client, clock: new FakeClock() });
    try {
      const rec = b.newRecorder({ component: 'test', host: 'node-1' });
      rec.event(obj, 'Normal', 'Pulled', 'image pulled');
      await b.flush();
      const [first] = await eventsIn('ev-recreate');
      assert.deepEqual(first!.source, { component: 'test', host: 'node-1' });
      assert.equal(first!.reportingInstance, 'node-1');
      await client.resource<Event>(EVENTS, 'ev-recreate').delete(first!.metadata.name!);
      rec.event(obj, 'Normal', 'Pulled', 'image pulled');
      await b.flush();
      const again = await eventsIn('ev-recreate');
      assert.equal(again.length, 1);
      assert.equal(again[0]!.metadata.name, first!.metadata.name);
      assert.equal(again[0]!.count, 2);
    } finally {
      await b.dispose();
    }
  });

  test('events about cluster-scoped objects go to the default namespace', async () => {
    const ns = await client.resource(NAMESPACES).create({ metadata: { name: 'ev-cluster' } });
    const b = new EventBroadcaster({ client });
    try {
      b.newRecorder({ component: 'namespace-controller' }).event(ns, 'Normal', 'Hello', 'cluster-scoped');
      await b.flush();
      const found = (await eventsIn('default')).filter((e) => e.involvedObject.name === 'ev-cluster');
      assert.equal(found.length, 1);
      assert.equal(found[0]!.involvedObject.namespace, undefined);
    } finally {
      await b.dispose();
    }
  });
});

describe('EventBroadcaster', () => {
  function fakeSink(failures = 0): EventSink & { created: Event[]; patched: Event[] } {
    let fail = failures;
    const sink = {
      created: [] as Event[],
      patched: [] as Event[],
      async create(e: Event): Promise<Event> {
        if (fail > 0) {
          fail--;
          throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
        }
        sink.created.push(e);
        return { ...e, metadata: { ...e.metadata, resourceVersion: String(sink.created.length) } };
      },
      async patch(e: Event): Promise<Event> {
        sink.patched.push(e);
        return e;
      },
    };
    return sink;
  }
  const obj = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns', name: 'p', uid: 'u1' } };

  test('lets a source burst 25 events about one object, then one per 5 minutes', async () => {
    const clock = new FakeClock();
    const sink = fakeSink();
    const b = new EventBroadcaster({ sink, clock });
    try {
      const rec = b.newRecorder({ component: 'kubelet' });
      for (let i = 0; i < 30; i++) rec.event(obj, 'Normal', `Reason${i}`, 'm');
      await b.flush();
      assert.equal(sink.created.length, 25);
      clock.step(299_000);
      rec.event(obj, 'Normal', 'Late', 'm');
      await b.flush();
      assert.equal(sink.created.length, 25);
      clock.step(1000);
      rec.event(obj, 'Normal', 'Later', 'm');
      await b.flush();
      assert.equal(sink.created.length, 26);
      rec.event({ ...obj, metadata: { ...obj.metadata, name: 'other', uid: 'u2' } }, 'Normal', 'Other', 'm');
      await b.flush();
      assert.equal(sink.created.length, 27, 'another object has its own bucket');
    } finally {
      await b.dispose();
    }
  });

  test('retries transport failures and drops malformed events', async () => {
    const sink = fakeSink(2);
    const b = new EventBroadcaster({ sink, sleepMs: 5 });
    try {
      const rec = b.newRecorder({ component: 'c' });
      rec.event(obj, 'Normal', 'R', 'm');
      rec.event(obj, 'Bogus', 'R', 'unsupported type');
      rec.event({ metadata: { name: 'no-kind' } }, 'Normal', 'R', 'no kind');
      await b.flush();
      assert.equal(sink.created.length, 1);
      assert.equal(sink.created[0]!.message, 'm');
      assert.throws(() => b.newRecorder({ component: '' }), /component must be a non-empty string/);
    } finally {
      await b.dispose();
    }
  });

  test('writes a few events at once, the writes of one Event in order', async () => {
    const writes: string[] = [];
    let inFlight = 0, maxInFlight = 0;
    const pending: (() => void)[] = [];
    const write = async (what: string, e: Event): Promise<Event> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      writes.push(`${what} ${e.involvedObject.name} ${e.count}`);
      await new Promise<void>((resolve) => pending.push(resolve));
      inFlight--;
      return e;
    };
    const sink: EventSink = { create: (e) => write('create', e), patch: (e) => write('patch', e) };
    const b = new EventBroadcaster({ sink, maxConcurrentWrites: 3 });
    try {
      const rec = b.newRecorder({ component: 'c' });
      for (let i = 0; i < 3; i++) rec.event(obj, 'Normal', 'R', 'm');
      for (let i = 0; i < 4; i++) rec.event({ ...obj, metadata: { ...obj.metadata, name: `o${i}`, uid: `o${i}` } }, 'Normal', 'R', 'm');
      const flushed = b.flush();
      // Release writes one at a time until everything is written.
      while (writes.length < 7 || pending.length > 0) {
        await new Promise((r) => setImmediate(r));
        pending.shift()?.();
      }
      await flushed;
      assert.equal(maxInFlight, 3);
      assert.deepEqual(writes.filter((w) => w.includes(' p ')), ['create p 1', 'patch p 2', 'patch p 3']);
      assert.deepEqual(writes.filter((w) => !w.includes(' p ')).sort(), ['create o0 1', 'create o1 1', 'create o2 1', 'create o3 1']);
    } finally {
      await b.dispose();
    }
  });

  test('events the spam filter drops never take a queue slot', async () => {
    const sink = fakeSink();
    const b = new EventBroadcaster({ sink, maxQueued: 2, maxConcurrentWrites: 1, correlator: { burst: 2 } });
    try {
      const rec = b.newRecorder({ component: 'replicaset-controller' });
      for (let i = 0; i < 50; i++) rec.event(obj, 'Normal', 'SuccessfulCreate', `Created pod: p-${i}`);
      rec.event({ ...obj, metadata: { ...obj.metadata, name: 'other', uid: 'u2' } }, 'Normal', 'Other', 'm');
      await b.flush();
      // Two pass the burst; the 48 dropped ones leave room in the queue for the other object's event.
      assert.deepEqual(sink.created.map((e) => `${e.involvedObject.name} ${e.message}`), ['p Created pod: p-0', 'p Created pod: p-1', 'other m']);
    } finally {
      await b.dispose();
    }
  });

  test('dispose drops queued events and ignores later ones', async () => {
    const sink = fakeSink();
    const b = new EventBroadcaster({ sink });
    const rec = b.newRecorder({ component: 'c' });
    await b.dispose();
    rec.event(obj, 'Normal', 'R', 'm');
    await b.flush();
    assert.equal(sink.created.length, 0);
  });
});

describe('FakeRecorder', () => {
  test('collects "Type Reason Message" lines', () => {
    const r = new FakeRecorder();
    r.eventf({ kind: 'Pod', name: 'p' }, 'Warning', 'FailedCreate', 'Error creating: %v', 'quota');
    assert.deepEqual(r.events, ['Warning FailedCreate Error creating: quota']);
  });
});
