// Entry of `npm run bench -- <name> [args...]`: a registry of benchmarks by name, each a module
// exporting run(args). With no name, lists the benchmarks. Benchmarks are not tests.

/** A benchmark module. */
export interface Bench {
  run(args: readonly string[]): Promise<void>;
}

const benches: Record<string, () => Promise<Bench>> = {
  storage: () => import('./storage.ts'),
  apiserver: () => import('./apiserver.ts'),
  dns: () => import('./dns.ts'),
  controllers: () => import('./controllers.ts'),
  ingress: () => import('./ingress.ts'),
  'scheduler-core': () => import('./scheduler_core.ts'),
  scheduler: () => import('./scheduler.ts'),
  podstartup: () => import('./podstartup.ts'),
  network: () => import('./network.ts'),
  probes: () => import('./probes.ts'),
};

async function main(argv: readonly string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(`usage: npm run bench -- <name> [args...]\nbenchmarks: ${Object.keys(benches).sort().join(', ')}`);
    return;
  }
  const load = benches[name];
  if (!load) {
    console.error(`unknown benchmark ${JSON.stringify(name)}; available: ${Object.keys(benches).sort().join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const bench = await load();
  await bench.run(rest);
}

await main(process.argv.slice(2));
