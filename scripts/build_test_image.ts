// Builds the busybox test image (tkube.local/busybox:stable) from Debian's busybox-static as an
// OCI image layout archive, for tests and for offline users: `./tkube image import FILE`.
// Usage: node --import tsx scripts/build_test_image.ts [--out FILE] [--name NAME] [--busybox PATH]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildBusyboxImage, DEFAULT_BUSYBOX, TEST_IMAGE } from '../src/agent/busybox_image.ts';

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'busybox.oci.tar' },
      name: { type: 'string', default: TEST_IMAGE },
      busybox: { type: 'string', default: DEFAULT_BUSYBOX },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: build_test_image.ts [--out FILE] [--name NAME] [--busybox PATH]\n');
    return;
  }
  const image = buildBusyboxImage({ name: values.name, binary: values.busybox });
  writeFileSync(values.out, image.tar);
  process.stdout.write(`${values.out}: ${values.name} (image ID ${image.configDigest}, ${image.tar.length} bytes)\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`build_test_image: ${(err as Error).message}\n`);
  process.exit(1);
}
