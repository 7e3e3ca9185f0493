// Tests of image reference parsing and the imagePullPolicy it implies.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPullPolicy, parseImageReference } from './image.ts';

const digest = 'sha256:' + '0123456789abcdef'.repeat(4);

describe('image references', () => {
  test('the tag is read as the docker reference grammar reads it', () => {
    assert.deepEqual(parseImageReference('nginx'), { name: 'nginx', tag: 'latest', digest: '' });
    assert.deepEqual(parseImageReference('nginx:1.25'), { name: 'nginx', tag: '1.25', digest: '' });
    assert.deepEqual(parseImageReference('localhost:5000/app'), { name: 'localhost:5000/app', tag: 'latest', digest: '' });
    assert.deepEqual(parseImageReference(`nginx@${digest}`), { name: 'nginx', tag: '', digest });
    assert.deepEqual(parseImageReference(`nginx:latest@${digest}`), { name: 'nginx', tag: 'latest', digest });
    assert.deepEqual(parseImageReference('Registry.Example.com/team/app:v1'), { name: 'Registry.Example.com/team/app', tag: 'v1', digest: '' });
  });

  test('references that do not parse are rejected', () => {
    for (const bad of ['', 'Nginx', 'nginx:', 'nginx:-bad', 'nginx@sha256:abc', 'a'.repeat(64), 'team/App:1', 'nginx:latest@sha256:zz']) {
      assert.equal(parseImageReference(bad), undefined, bad);
    }
  });

  test('pull policy is Always for latest or no tag, IfNotPresent otherwise', () => {
    const table: Array<[unknown, string]> = [
      ['nginx', 'Always'], ['nginx:latest', 'Always'], ['docker.io/library/nginx', 'Always'],
      ['nginx:1.14.2', 'IfNotPresent'], [`nginx@${digest}`, 'IfNotPresent'], [`nginx:latest@${digest}`, 'Always'],
      ['Nginx:latest', 'IfNotPresent'], ['', 'IfNotPresent'], [undefined, 'IfNotPresent'],
    ];
    for (const [image, want] of table) assert.equal(defaultPullPolicy(image), want, String(image));
  });
});
