// Unit tests of the shared ControllerRevision helpers: Go-compatible JSON of the template patch,
// hash-derived names that change with the collision count, ordering and equality.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision } from '../api/types/apps_v1.ts';
import {
  controllerRevisionName, equalRevision, goJson, hashControllerRevision, nextRevision, sortControllerRevisions, templatePatch,
} from './controller_history.ts';

describe('controller history', () => {
  test('goJson sorts keys and escapes HTML characters as encoding/json does', () => {
    assert.equal(goJson({ b: 1, a: { d: '<x>', c: [true, null] } }), '{"a":{"c":[true,null],"d":"\\u003cx\\u003e"},"b":1}');
  });

  test('the revision data replaces the whole template and keeps the null creationTimestamp', () => {
    const data = templatePatch({ spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } } });
    assert.equal(goJson(data), '{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[]}}}}');
  });

  test('hashes are stable, safe-encoded, and move with the collision count', () => {
    const data = templatePatch({ spec: { template: { metadata: { labels: { app: 'web' } } } } });
    const h0 = hashControllerRevision(data, 0);
    assert.equal(h0, hashControllerRevision(structuredClone(data), 0));
    assert.match(h0, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.notEqual(h0, hashControllerRevision(data, 1));
    assert.equal(controllerRevisionName('web', h0), `web-${h0}`);
    assert.equal(controllerRevisionName('x'.repeat(300), 'h').length, 225);
  });

  test('ordering, equality and the next revision number', () => {
    const rev = (name: string, revision: number, image: string): ControllerRevision => ({ metadata: { name }, revision, data: { spec: { template: { image } } } as unknown as ControllerRevision['data'] });
    const revs = sortControllerRevisions([rev('c', 3, 'a'), rev('a', 1, 'a'), rev('b', 2, 'b')]);
    assert.deepEqual(revs.map((r) => r.metadata?.name), ['a', 'b', 'c']);
    assert.equal(equalRevision(revs[0], revs[2]), true);
    assert.equal(equalRevision(revs[0], revs[1]), false);
    assert.equal(nextRevision(revs), 4);
    assert.equal(nextRevision([]), 1);
  });
});
