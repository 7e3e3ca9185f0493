// The tar writer produces archives GNU tar reads back; the streaming reader finds members across
// chunk boundaries, honours PAX long names, and refuses truncated input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { readTarMembers, writeTar } from './tar.ts';

const longName = `deep/${'d'.repeat(120)}/file.txt`;

function sample(): Buffer {
  return writeTar([
    { name: 'etc/', type: 'dir' },
    { name: 'etc/passwd', type: 'file', data: Buffer.from('root:x:0:0::/root:/bin/sh\n') },
    { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
    { name: 'tmp', type: 'dir', mode: 0o1777 },
    { name: longName, type: 'file', mode: 0o600, data: Buffer.alloc(1000, 7) },
    { name: 'empty', type: 'file' },
  ]);
}

test('GNU tar lists what writeTar wrote, with modes, links and long names', () => {
  const listing = execFileSync('tar', ['-tvf', '-'], { input: sample(), encoding: 'utf8' });
  assert.match(listing, /^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 etc\/$/m);
  assert.match(listing, /^-rw-r--r-- 0\/0 +26 1970-01-01 00:00 etc\/passwd$/m);
  assert.match(listing, /^lrwxrwxrwx 0\/0 +0 1970-01-01 00:00 bin\/sh -> \/bin\/busybox$/m);
  assert.match(listing, /^drwxrwxrwt 0\/0 +0 1970-01-01 00:00 tmp\/$/m);
  assert.ok(listing.includes(`-rw------- 0/0            1000 1970-01-01 00:00 ${longName}`), listing);
});

test('writeTar is deterministic', () => {
  assert.deepEqual(sample(), sample());
});

test('readTarMembers returns only the wanted files, whatever the chunking', async () => {
  const tar = sample();
  for (const chunk of [1, 7, 512, 100_000]) {
    const parts: Buffer[] = [];
    for (let i = 0; i < tar.length; i += chunk) parts.push(tar.subarray(i, i + chunk));
    const got = await readTarMembers(Readable.from(parts), (n) => n === 'etc/passwd' || n === longName || n === 'empty');
    assert.deepEqual([...got.keys()].sort(), ['empty', longName, 'etc/passwd'].sort(), `chunk ${chunk}`);
    assert.equal(got.get('etc/passwd')!.toString(), 'root:x:0:0::/root:/bin/sh\n');
    assert.deepEqual(got.get(longName), Buffer.alloc(1000, 7));
    assert.equal(got.get('empty')!.length, 0);
  }
});

test('readTarMembers reads archives GNU tar made, "./" prefixes included', async () => {
  const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
  try {
    execFileSync('sh', ['-c', `cd ${dir} && echo '{"a":1}' > index.json && mkdir -p blobs && echo x > blobs/b && tar -cf ../t.tar . && mv ../t.tar ${dir}/t.tar`]);
    const tar = execFileSync('cat', [`${dir}/t.tar`]);
    const got = await readTarMembers(Readable.from([tar]), (n) => n === 'index.json');
    assert.equal(got.get('index.json')?.toString(), '{"a":1}\n');
  } finally {
    execFileSync('rm', ['-rf', dir]);
  }
});

test('readTarMembers refuses a truncated archive', async () => {
  const tar = sample();
  await assert.rejects(readTarMembers(Readable.from([tar.subarray(0, 1100)]), () => true), /truncated/);
});
