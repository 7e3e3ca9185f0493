// A network-namespace lab for the proxy's root tests (imported only by *_test.ts): namespaces and
// veth links the test creates and deletes by name, tiny node TCP/UDP servers acting as endpoints,
// and clients, so rules are exercised by real packets without touching the host's own tables.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Answers each TCP connection (8080) and UDP datagram (5353) with "NAME PEER-ADDRESS". */
const SERVER = `
const net = require('net'), dgram = require('dgram');
const name = process.argv[1];
const tcp = net.createServer((s) => s.end(name + ' ' + String(s.remoteAddress).replace('::ffff:', '') + '\\n'));
tcp.listen(8080, '0.0.0.0', () => {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, r) => udp.send(name + ' ' + r.address, r.port, r.address));
  udp.bind(5353, '0.0.0.0', () => console.log('ready'));
});
`;

/** Makes COUNT sequential TCP connections and prints the replies (or "ERR code") as JSON. */
const TCP_CLIENT = `
const net = require('net');
const [host, port, count, timeoutMs] = process.argv.slice(1);
function one() {
  return new Promise((resolve) => {
    let data = '';
    const s = net.connect({ host, port: Number(port) });
    const t = setTimeout(() => { s.destroy(); resolve('ERR TIMEOUT'); }, Number(timeoutMs));
    s.on('data', (d) => (data += d));
    s.on('end', () => { clearTimeout(t); resolve(data.trim()); });
    s.on('error', (e) => { clearTimeout(t); resolve('ERR ' + e.code); });
  });
}
(async () => { const out = []; for (let i = 0; i < Number(count); i++) out.push(await one()); console.log(JSON.stringify(out)); })();
`;

/** Sends COUNT datagrams from one fixed local port (so conntrack keeps one flow) and prints replies. */
const UDP_CLIENT = `
const dgram = require('dgram');
const [host, port, lport, count, timeoutMs] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.bind(Number(lport), async () => {
  const out = [];
  for (let i = 0; i < Number(count); i++) {
    out.push(await new Promise((resolve) => {
      const t = setTimeout(() => { s.removeAllListeners('message'); resolve('ERR TIMEOUT'); }, Number(timeoutMs));
      s.once('message', (m) => { clearTimeout(t); resolve(String(m)); });
      s.send('x', Number(port), host);
    }));
  }
  console.log(JSON.stringify(out));
  s.close();
});
`;

/** Namespaces, links and processes of one test run; dispose removes exactly what it made. */
export class NetnsLab {
  readonly prefix: string;
  readonly #namespaces: string[] = [];
  readonly #children: ChildProcess[] = [];

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Runs `ip ARGS` (or any command) and throws with stderr on failure. */
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

  /** A veth pair between two namespaces, created inside them (no name in the host namespace). */
  async link(a: { ns: string; ifname: string; cidr: string }, b: { ns: string; ifname: string; cidr: string }): Promise<void> {
    await this.sh('ip', ['-n', a.ns, 'link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns]);
    for (const side of [a, b]) {
      await this.sh('ip', ['-n', side.ns, 'addr', 'add', side.cidr, 'dev', side.ifname]);
      await this.sh('ip', ['-n', side.ns, 'link', 'set', side.ifname, 'up']);
    }
  }

  /** Starts the endpoint server in `ns`, answering as `name`; resolves once it listens. */
  startServer(ns: string, name: string): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER, name], { stdio: ['ignore', 'pipe', 'pipe'] });
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

  /** COUNT TCP connections from `ns` to host:port; each reply or "ERR CODE". */
  async tcp(ns: string, host: string, port: number, count = 1, timeoutMs = 2000): Promise<string[]> {
    return JSON.parse(await this.inNs(ns, process.execPath, ['-e', TCP_CLIENT, host, String(port), String(count), String(timeoutMs)])) as string[];
  }

  /** COUNT UDP round trips from `ns`, all from local port `lport`. */
  async udp(ns: string, host: string, port: number, lport: number, count = 1, timeoutMs = 1000): Promise<string[]> {
    return JSON.parse(await this.inNs(ns, process.execPath, ['-e', UDP_CLIENT, host, String(port), String(lport), String(count), String(timeoutMs)])) as string[];
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
