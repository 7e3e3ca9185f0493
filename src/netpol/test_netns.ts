// A network-namespace lab for the NetworkPolicy root tests (imported only by *_test.ts): a "node"
// namespace with a bridge, "pod" namespaces attached to it by veth, tiny Node.js TCP/UDP servers
// and clients. Everything is created and deleted by name; only addresses the lab made are used.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Answers each TCP connection and UDP datagram with "NAME PEER-ADDRESS" on the given ports. */
const SERVER = `
const net = require('net'), dgram = require('dgram');
const [name, tcpPorts, udpPorts] = process.argv.slice(1);
const list = (s) => s.split(',').filter(Boolean).map(Number);
const waits = [];
for (const port of list(tcpPorts)) {
  const tcp = net.createServer((s) => s.end(name + ' ' + String(s.remoteAddress).replace('::ffff:', '') + '\\n'));
  waits.push(new Promise((r) => tcp.listen(port, '0.0.0.0', r)));
}
for (const port of list(udpPorts)) {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, r) => udp.send(name + ' ' + r.address, r.port, r.address));
  waits.push(new Promise((r) => udp.bind(port, '0.0.0.0', r)));
}
Promise.all(waits).then(() => console.log('ready'));
`;

/** One TCP connection; prints the reply or "ERR CODE". */
const TCP_CLIENT = `
const net = require('net');
const [host, port, timeoutMs] = process.argv.slice(1);
let data = '';
const s = net.connect({ host, port: Number(port) });
const t = setTimeout(() => { s.destroy(); console.log('ERR TIMEOUT'); }, Number(timeoutMs));
s.on('data', (d) => (data += d));
s.on('end', () => { clearTimeout(t); console.log(data.trim()); });
s.on('error', (e) => { clearTimeout(t); console.log('ERR ' + e.code); });
`;

/** One UDP round trip; prints the reply or "ERR TIMEOUT". */
const UDP_CLIENT = `
const dgram = require('dgram');
const [host, port, timeoutMs] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const t = setTimeout(() => { console.log('ERR TIMEOUT'); s.close(); }, Number(timeoutMs));
s.once('message', (m) => { clearTimeout(t); console.log(String(m)); s.close(); });
s.send('x', Number(port), host);
`;

/** Namespaces and processes of one test run; dispose removes exactly what it made. */
export class NetnsLab {
  readonly prefix: string;
  readonly #namespaces: string[] = [];
  readonly #children: ChildProcess[] = [];

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Runs a command and throws with its stderr on failure. */
  async sh(cmd: string, args: readonly string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
    }
  }

  /** Runs a command inside namespace `ns`. */
  inNs(ns: string, cmd: string, args: readonly string[]): Promise<string> {
    return this.sh('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  /** Creates namespace PREFIX-SUFFIX with loopback up. */
  async namespace(suffix: string): Promise<string> {
    const name = `${this.prefix}-${suffix}`;
    await this.sh('ip', ['netns', 'add', name]);
    this.#namespaces.push(name);
    await this.sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A bridge `bridge` with address `cidr` in the node namespace. */
  async bridge(node: string, bridge: string, cidr: string): Promise<void> {
    await this.sh('ip', ['-n', node, 'link', 'add', bridge, 'type', 'bridge']);
    await this.sh('ip', ['-n', node, 'addr', 'add', cidr, 'dev', bridge]);
    await this.sh('ip', ['-n', node, 'link', 'set', bridge, 'up']);
  }

  /** Attaches pod namespace `pod` to the bridge: eth0 with `cidr` inside, `hostIf` on the bridge, default route via `gateway`. */
  async attach(o: { node: string; bridge: string; pod: string; hostIf: string; cidr: string; gateway: string }): Promise<void> {
    await this.sh('ip', ['-n', o.pod, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', o.hostIf, 'netns', o.node]);
    await this.sh('ip', ['-n', o.pod, 'addr', 'add', o.cidr, 'dev', 'eth0']);
    await this.sh('ip', ['-n', o.pod, 'link', 'set', 'eth0', 'up']);
    await this.sh('ip', ['-n', o.node, 'link', 'set', o.hostIf, 'master', o.bridge]);
    await this.sh('ip', ['-n', o.node, 'link', 'set', o.hostIf, 'up']);
    await this.sh('ip', ['-n', o.pod, 'route', 'add', 'default', 'via', o.gateway]);
  }

  /** Starts a server in `ns` answering as `name`; resolves once every port listens. */
  startServer(ns: string, name: string, ports: { tcp?: number[]; udp?: number[] }): Promise<void> {
    const args = ['netns', 'exec', ns, process.execPath, '-e', SERVER, name, (ports.tcp ?? []).join(','), (ports.udp ?? []).join(',')];
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.push(child);
    return new Promise((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`server ${name} did not start: ${err}`)), 10_000);
      child.stderr!.on('data', (d) => (err += d));
      child.stdout!.on('data', (d) => {
        if (String(d).includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server ${name} exited with ${code}: ${err}`));
      });
    });
  }

  /** One TCP connection from `ns`: the server's reply or "ERR CODE". */
  async tcp(ns: string, host: string, port: number, timeoutMs = 1500): Promise<string> {
    return (await this.inNs(ns, process.execPath, ['-e', TCP_CLIENT, host, String(port), String(timeoutMs)])).trim();
  }

  /** One UDP round trip from `ns`: the server's reply or "ERR TIMEOUT". */
  async udp(ns: string, host: string, port: number, timeoutMs = 1000): Promise<string> {
    return (await this.inNs(ns, process.execPath, ['-e', UDP_CLIENT, host, String(port), String(timeoutMs)])).trim();
  }

  /** Stops the servers and deletes the namespaces this lab created. */
  async dispose(): Promise<void> {
    for (const c of this.#children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.removeAllListeners('exit');
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        c.kill('SIGTERM');
        await exited;
      }
    }
    for (const ns of this.#namespaces.reverse()) {
      await this.sh('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
  }
}
