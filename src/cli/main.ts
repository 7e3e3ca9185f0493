// The `tkube` command line: parses arguments (commander) and dispatches to the server, the test
// runner and the small utility commands. Wiring only; every feature lives in its own layer.
import { Command, Option, InvalidArgumentError } from 'commander';
import { versionInfo, TKUBE_VERSION } from '../base/version.ts';
import { parseSigningDuration, serverDefaults, type ServerFlags } from './server_flags.ts';
import { addNetworkingOptions } from './networking_flags.ts';

function positiveInt(name: string, allowZero = false) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || (!allowZero && n === 0)) {
      throw new InvalidArgumentError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

const KUBELET_ARG_HELP = 'upstream kubelet flag for the node agent, e.g. eviction-hard=memory.available<100Mi or max-pods=50 (repeatable; unknown flags are an error)';

function port(v: string): number {
  const n = positiveInt('port')(v);
  if (n > 65535) throw new InvalidArgumentError(`port must be at most 65535, got ${v}`);
  return n;
}

/**
 * Everything was disposed; if a stray handle still keeps the event loop alive, say which and exit
 * anyway, so a stopped server never lingers (the timer is unref'd: it fires only in that case).
 */
function exitSoon(): void {
  setTimeout(() => {
    const left = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
    console.error(`tkube: exiting with handles still open: ${left.join(', ') || 'timers'}`);
    process.exit();
  }, 3000).unref();
}

function main(argv: string[]): void {
  const d = serverDefaults();
  const program = new Command('tkube')
    .description('tkube: Kubernetes v1.32, written in TypeScript. Drive it with the real kubectl.')
    .version(`tkube ${TKUBE_VERSION} (Kubernetes ${versionInfo()['gitVersion']})`, '--version', 'print the version')
    .showHelpAfterError()
    .enablePositionalOptions();

  program.command('version')
    .description('print tkube and Kubernetes versions')
    .option('-o, --output <format>', 'json for the /version document')
    .action((o: { output?: string }) => {
      if (o.output === 'json') {
        process.stdout.write(JSON.stringify(versionInfo(), null, 2) + '\n');
      } else if (o.output !== undefined) {
        console.error(`tkube: --output must be "json", got ${JSON.stringify(o.output)}`);
        process.exitCode = 1;
      } else {
        console.log(`tkube version ${TKUBE_VERSION}`);
        console.log(`Kubernetes version ${versionInfo()['gitVersion']}`);
      }
    });

  addNetworkingOptions(program.command('server')
    .description('run a control plane (API server, storage, controllers, scheduler) and, unless disabled, a node agent')
    .option('--data-dir <dir>', 'directory for the datastore, certificates and kubeconfig', d.dataDir)
    .option('--https-port <port>', 'port of the HTTPS API', port, d.httpsPort)
    .option('--bind-address <ip>', 'address the API server listens on', d.bindAddress)
    .option('--node-ip <ip>', 'IP address this node advertises')
    .option('--node-name <name>', 'name of this node', d.nodeName)
    .option('--disable-agent', 'run no node agent in this process', false)
    .option('--sim-nodes <n>', 'register N simulated nodes (pods go Running without containers)', positiveInt('--sim-nodes', true), 0)
    .option('--sim-capacity <list>', 'capacity of each simulated node, e.g. cpu=32,memory=256Gi,pods=110')
    .option('--sim-labels <list>', 'labels of simulated nodes, e.g. tier=sim,disk=ssd')
    .option('--sim-taints <list>', 'taints of simulated nodes, e.g. sim=true:NoSchedule')
    .option('--sim-name-prefix <prefix>', 'name prefix of simulated nodes (default sim-)')
    .option('--sim-zones <n>', 'spread simulated nodes over N zones (topology.kubernetes.io/zone)')
    .option('--datastore-endpoint <url>', 'sqlite:///path/state.db (default under --data-dir), etcd://h1:2379,h2:2379 or memory://')
    .option('--cluster-cidr <cidr>', 'pod network', d.clusterCidr)
    .option('--service-cidr <cidr>', 'Service ClusterIP range', d.serviceCidr)
    .option('--cluster-dns <ip>', 'cluster DNS Service IP', d.clusterDns)
    .option('--cluster-domain <domain>', 'cluster DNS domain', d.clusterDomain)
    .option('--write-kubeconfig <path>', 'also write the admin kubeconfig here')
    .option('--pod-manifest-path <dir>', 'static pod manifests of the embedded agent (default DATA/agent/manifests)')
    .option('--registries <file>', 'registry mirrors, credentials and TLS for containerd, k3s registries.yaml format (default DATA/registries.yaml if present)')
    .option('--kubelet-arg <key=value>', KUBELET_ARG_HELP, collect)
    .option('--scheduler-config <file>', 'KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) file')
    .option('--encryption-provider-config <file>', 'EncryptionConfiguration for data at rest (aescbc, aesgcm, secretbox, identity)')
    .option('--audit-policy-file <file>', 'audit.k8s.io/v1 Policy')
    .option('--audit-log-path <file>', 'write audit events here (- for stdout)')
    .option('--audit-log-maxage <days>', 'days to keep rotated audit logs', positiveInt('--audit-log-maxage', true))
    .option('--audit-log-maxbackup <n>', 'rotated audit logs to keep', positiveInt('--audit-log-maxbackup', true))
    .option('--audit-log-maxsize <MB>', 'rotate the audit log at this size', positiveInt('--audit-log-maxsize', true))
    .option('--token-auth-file <file>', 'static bearer tokens, CSV: token,user,uid,"group1,group2"')
    .option('--anonymous-auth', 'let requests without credentials through as system:anonymous (RBAC decides)', false)
    .option('--cluster-signing-duration <duration>', 'longest lifetime of certificates signed for CSRs (default 8760h)', (v: string) => {
      try {
        return parseSigningDuration(v);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    })
    .addOption(new Option('--compaction-window <seconds>', 'keep this much storage history for watches').argParser(positiveInt('--compaction-window')).default(300)))
    .action(async (flags: ServerFlags) => {
      const { runServer } = await import('./server.ts');
      process.exitCode = await runServer(flags);
      exitSoon();
    });

  addNetworkingOptions(program.command('agent')
    .description('run a node agent (containerd + kubelet) joining a cluster')
    .option('--server <url>', 'API server URL (overrides the kubeconfig\'s)')
    .option('--kubeconfig <path>', 'kubeconfig with the node\'s credentials')
    .option('--token <token>', 'join with this bootstrap token (tkube token create); the credentials obtained are kept in the data dir')
    .option('--ca-cert-hash <sha256:hex>', 'trust the server when joining if its CA\'s public key has this hash')
    .option('--ca-file <file>', 'trust the server when joining if it has a certificate from this CA')
    .option('--kubelet-port <port>', 'port of the kubelet API (default 10250)', port)
    .option('--data-dir <dir>', 'directory for containerd, images and kubelet state', d.dataDir)
    .option('--node-name <name>', 'name of this node', d.nodeName)
    .option('--node-ip <ip>', 'IP address this node advertises')
    .option('--node-labels <k=v...>', 'labels of the Node (repeatable, comma lists allowed)')
    .option('--node-taints <key=value:Effect...>', 'taints of the Node (repeatable, comma lists allowed)')
    .option('--cluster-cidr <cidr>', 'pod network', d.clusterCidr)
    .option('--cluster-dns <ip>', 'cluster DNS Service IP', d.clusterDns)
    .option('--cluster-domain <domain>', 'cluster DNS domain', d.clusterDomain)
    .option('--service-cidr <cidr>', 'Service ClusterIP range (the proxy rejects unallocated addresses in it)', d.serviceCidr)
    .option('--pod-manifest-path <dir>', 'static pod manifests (default DATA/agent/manifests)')
    .option('--registries <file>', 'registry mirrors, credentials and TLS for containerd, k3s registries.yaml format (default DATA/registries.yaml if present)')
    .option('--kubelet-arg <key=value>', KUBELET_ARG_HELP, collect))
    .action(async (flags: import('./agent_command.ts').AgentFlags) => {
      const { runAgent } = await import('./agent_command.ts');
      process.exitCode = await runAgent(flags);
      exitSoon();
    });

  const token = program.command('token').description('manage bootstrap tokens for joining nodes');
  const tokenTarget = (c: Command): Command => c
    .option('--kubeconfig <path>', 'admin kubeconfig (default: DATA/kubeconfig.yaml)')
    .option('--data-dir <dir>', 'the server\'s data dir', d.dataDir);
  tokenTarget(token.command('create')
    .description('create a bootstrap token and print it')
    .argument('[token]', 'the token to create, [a-z0-9]{6}.[a-z0-9]{16} (default: random)')
    .option('--ttl <duration>', 'lifetime, e.g. 24h or 1h30m; 0 for never', '24h')
    .option('--description <text>', 'what the token is for')
    .option('--groups <list>', 'extra groups, comma-separated (default system:bootstrappers:tkube:default-node-token, which may join nodes)')
    .option('--usages <list>', 'comma-separated: authentication, signing', 'signing,authentication')
    .option('--print-join-command', 'print the `tkube agent` command a node joins with'))
    .action(async (value: string | undefined, o: import('./token_command.ts').TokenCreateFlags) => {
      const { tokenCreate } = await import('./token_command.ts');
      process.exitCode = await tokenCreate(value, o);
    });
  tokenTarget(token.command('list').description('list bootstrap tokens'))
    .action(async (o: import('./token_command.ts').TokenFlags) => {
      const { tokenList } = await import('./token_command.ts');
      process.exitCode = await tokenList(o);
    });
  tokenTarget(token.command('delete').description('delete bootstrap tokens').argument('<tokens...>', 'tokens or token ids'))
    .action(async (values: string[], o: import('./token_command.ts').TokenFlags) => {
      const { tokenDelete } = await import('./token_command.ts');
      process.exitCode = await tokenDelete(values, o);
    });

  const snapshot = program.command('snapshot').description('back up and restore the embedded SQLite datastore');
  const snapshotTarget = (c: Command): Command => c.option('--data-dir <dir>', 'the server\'s data dir', d.dataDir);
  snapshotTarget(snapshot.command('save')
    .description('write a consistent snapshot of the datastore to DATA/db/snapshots (online when the server runs)')
    .option('--name <name>', 'snapshot name prefix', 'on-demand')
    .option('--kubeconfig <path>', 'admin kubeconfig (default: DATA/kubeconfig.yaml)'))
    .action(async (o: import('./snapshot_command.ts').SnapshotFlags & { name?: string }) => {
      const { snapshotSave } = await import('./snapshot_command.ts');
      process.exitCode = await snapshotSave(o);
    });
  snapshotTarget(snapshot.command('ls').description('list snapshots'))
    .action(async (o: import('./snapshot_command.ts').SnapshotFlags) => {
      const { snapshotList } = await import('./snapshot_command.ts');
      process.exitCode = snapshotList(o);
    });
  snapshotTarget(snapshot.command('restore')
    .description('replace the datastore by a snapshot (the server must be stopped)')
    .argument('<snapshot>', 'a snapshot file, or a name listed by `tkube snapshot ls`'))
    .action(async (file: string, o: import('./snapshot_command.ts').SnapshotFlags) => {
      const { snapshotRestore } = await import('./snapshot_command.ts');
      process.exitCode = snapshotRestore(file, o);
    });

  const image = program.command('image').description("manage the node's container images (as root)");
  image.command('import')
    .description('import OCI-layout or docker-save archives (optionally gzipped) into the node')
    .argument('<files...>', 'archive files')
    .option('--data-dir <dir>', 'the server or agent data dir', d.dataDir)
    .action(async (files: string[], o: { dataDir: string }) => {
      const { imageImport } = await import('./image_command.ts');
      process.exitCode = await imageImport(o.dataDir, files);
    });
  image.command('ls')
    .description('list the node\'s images')
    .option('--data-dir <dir>', 'the server or agent data dir', d.dataDir)
    .action(async (o: { dataDir: string }) => {
      const { imageList } = await import('./image_command.ts');
      process.exitCode = await imageList(o.dataDir);
    });
  image.command('rm')
    .description('remove images by reference or ID')
    .argument('<refs...>', 'image references')
    .option('--data-dir <dir>', 'the server or agent data dir', d.dataDir)
    .action(async (refs: string[], o: { dataDir: string }) => {
      const { imageRemove } = await import('./image_command.ts');
      process.exitCode = await imageRemove(o.dataDir, refs);
    });

  program.command('test')
    .description('run the test suite (unit, integration, e2e); as root installs the system packages it needs first')
    .argument('[filters...]', 'unit | integration | e2e | substrings of test file paths')
    .action(async (filters: string[]) => {
      const { runTests } = await import('./test_command.ts');
      process.exitCode = await runTests(filters);
    });

  program.parseAsync(argv).catch((err: unknown) => {
    console.error(`tkube: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}

main(process.argv);
