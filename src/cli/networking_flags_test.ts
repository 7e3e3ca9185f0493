// Unit tests of the networking flags: k3s's component names and aliases, the disable booleans,
// ingress ports, and errors that name the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addNetworkingOptions, networkingOptionsFromFlags, type NetworkingFlags } from './networking_flags.ts';

function parse(args: string[]): NetworkingFlags {
  const cmd = addNetworkingOptions(new Command('x').exitOverride());
  cmd.parse(args, { from: 'user' });
  return cmd.opts<NetworkingFlags>();
}

test('everything is on by default, with ingress on 80 and 443', () => {
  assert.deepEqual(networkingOptionsFromFlags(parse([]), { serviceCIDR: '10.43.0.0/16' }), {
    proxy: true, dns: true, ingress: true, serviceLB: true, networkPolicy: true, ingressHttpPort: 80, ingressHttpsPort: 443, serviceCIDR: '10.43.0.0/16',
  });
});

test('--disable takes comma lists, repeats and k3s aliases; the k3s booleans work too', () => {
  const o = networkingOptionsFromFlags(parse(['--disable', 'traefik,servicelb', '--disable', 'coredns', '--disable-kube-proxy', '--disable-network-policy', '--ingress-http-port', '8080', '--ingress-https-port', '0']));
  assert.deepEqual(o, { proxy: false, dns: false, ingress: false, serviceLB: false, networkPolicy: false, ingressHttpPort: 8080, ingressHttpsPort: 0 });
});

test('unknown components and bad ports are refused by name', () => {
  assert.throws(() => networkingOptionsFromFlags(parse(['--disable', 'flannel'])), /--disable: unknown component "flannel"/);
  assert.throws(() => parse(['--ingress-http-port', '70000']), /want a port number/);
});
