// Routing table tests: the path matching examples of the Kubernetes Ingress documentation, host
// precedence (exact, wildcard, host-less), default backends and conflicts between Ingresses.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HTTPIngressPath, Ingress, IngressRule } from '../api/types/networking_v1.ts';
import { buildRouteTable, matchRoute, normalizeHost, pathMatches, requestPath, type BackendResolver } from './routing.ts';

/** Resolves a backend to "namespace/service:port" so tests can compare strings. */
const byName: BackendResolver<string> = (ns, b) => (b.service ? `${ns}/${b.service.name}:${b.service.port?.number ?? b.service.port?.name}` : undefined);

function path(p: string, pathType: string, service: string): HTTPIngressPath {
  return { path: p, pathType, backend: { service: { name: service, port: { number: 80 } } } };
}

function ingress(name: string, rules: IngressRule[], extra: Partial<Ingress['spec']> = {}, created = '2024-01-01T00:00:00Z', namespace = 'default'): Ingress {
  return { metadata: { name, namespace, creationTimestamp: created }, spec: { rules, ...extra } };
}

function route(ingresses: Ingress[], host: string, p: string): string | undefined {
  return matchRoute(buildRouteTable(ingresses, byName), host, p)?.backend;
}

describe('path matching (Ingress documentation examples)', () => {
  // Columns: path type, rule paths, request path, expected matching rule path (undefined: no match).
  const cases: [string, string[], string, string | undefined][] = [
    ['Prefix', ['/'], '/anything/at/all', '/'],
    ['Exact', ['/foo'], '/foo', '/foo'],
    ['Exact', ['/foo'], '/bar', undefined],
    ['Exact', ['/foo'], '/foo/', undefined],
    ['Exact', ['/foo/'], '/foo', undefined],
    ['Prefix', ['/foo'], '/foo', '/foo'],
    ['Prefix', ['/foo'], '/foo/', '/foo'],
    ['Prefix', ['/foo/'], '/foo', '/foo/'],
    ['Prefix', ['/foo/'], '/foo/', '/foo/'],
    ['Prefix', ['/aaa/bb'], '/aaa/bbb', undefined],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb/'], '/aaa/bbb', '/aaa/bbb/'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/ccc', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbbxyz', undefined],
    ['Prefix', ['/', '/aaa'], '/aaa/ccc', '/aaa'],
    ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/aaa/bbb', '/aaa/bbb'],
    ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/ccc', '/'],
    ['Prefix', ['/aaa'], '/ccc', undefined],
    ['ImplementationSpecific', ['/foo'], '/foo/bar', '/foo'],
    ['ImplementationSpecific', ['/foo'], '/foobar', undefined],
  ];
  for (const [type, rulePaths, req, want] of cases) {
    test(`${type} ${JSON.stringify(rulePaths)} with request ${req} ${want === undefined ? 'does not match' : `matches ${want}`}`, () => {
      // Each rule path gets its own service so the answer names the rule that won.
      const paths = rulePaths.map((p) => path(p, type, `svc${p}`));
      const got = route([ingress('a', [{ host: 'foo.bar.com', http: { paths } }])], 'foo.bar.com', req);
      assert.equal(got, want === undefined ? undefined : `default/svc${want}:80`);
    });
  }

  test('Exact wins over Prefix for the same path', () => {
    const paths = [path('/foo', 'Prefix', 'prefix'), path('/foo', 'Exact', 'exact')];
    const ing = [ingress('a', [{ http: { paths } }])];
    assert.equal(route(ing, 'x', '/foo'), 'default/exact:80');
    assert.equal(route(ing, 'x', '/foo/bar'), 'default/prefix:80');
  });

  test('the longest matching path wins whatever the rule order', () => {
    const paths = [path('/', 'Prefix', 'root'), path('/api/v1', 'Prefix', 'v1'), path('/api', 'Prefix', 'api')];
    const ing = [ingress('a', [{ http: { paths } }])];
    assert.equal(route(ing, 'x', '/api/v1/users'), 'default/v1:80');
    assert.equal(route(ing, 'x', '/api/v2'), 'default/api:80');
    assert.equal(route(ing, 'x', '/apis'), 'default/root:80');
  });

  test('pathMatches ignores nothing but trailing slashes', () => {
    assert.equal(pathMatches({ exact: false, match: '' }, '/'), true);
    assert.equal(pathMatches({ exact: false, match: '/a' }, '/a/'), true);
    assert.equal(pathMatches({ exact: false, match: '/a' }, '/A'), false);
    assert.equal(pathMatches({ exact: true, match: '/a' }, '/a'), true);
  });
});

describe('host matching', () => {
  const ings = [
    ingress('hosts', [
      { host: 'foo.bar.com', http: { paths: [path('/', 'Prefix', 'exact-host')] } },
      { host: '*.bar.com', http: { paths: [path('/', 'Prefix', 'wildcard')] } },
      { http: { paths: [path('/other', 'Prefix', 'any-host')] } },
    ]),
  ];

  test('an exact host beats a wildcard', () => {
    assert.equal(route(ings, 'foo.bar.com', '/'), 'default/exact-host:80');
  });

  test('a wildcard covers exactly one label', () => {
    assert.equal(route(ings, 'baz.bar.com', '/'), 'default/wildcard:80');
    assert.equal(route(ings, 'bar.com', '/'), undefined);
    assert.equal(route(ings, 'a.baz.bar.com', '/'), undefined);
  });

  test('rules without a host apply to every host', () => {
    assert.equal(route(ings, 'unknown.example', '/other/x'), 'default/any-host:80');
    assert.equal(route(ings, 'unknown.example', '/'), undefined);
    // A known host whose own paths do not match falls through to host-less rules.
    const narrow = [ingress('n', [{ host: 'a.com', http: { paths: [path('/a', 'Exact', 'a')] } }, { http: { paths: [path('/', 'Prefix', 'all')] } }])];
    assert.equal(route(narrow, 'a.com', '/a'), 'default/a:80');
    assert.equal(route(narrow, 'a.com', '/b'), 'default/all:80');
  });

  test('hosts compare case-insensitively and without port or trailing dot', () => {
    assert.equal(normalizeHost('Foo.Bar.COM:8080'), 'foo.bar.com');
    assert.equal(normalizeHost('foo.bar.com.'), 'foo.bar.com');
    assert.equal(normalizeHost('[::1]:80'), '[::1]');
    assert.equal(normalizeHost(undefined), '');
    const upper = [ingress('u', [{ host: 'FOO.example.com', http: { paths: [path('/', 'Prefix', 'u')] } }])];
    assert.equal(route(upper, normalizeHost('foo.EXAMPLE.com:443'), '/'), 'default/u:80');
  });

  test('request paths drop the query and fragment', () => {
    assert.equal(requestPath('/a/b?x=1'), '/a/b');
    assert.equal(requestPath('/a#frag'), '/a');
    assert.equal(requestPath('http://h/p?q'), '/p');
    assert.equal(requestPath(undefined), '/');
  });
});

describe('default backends and conflicts', () => {
  test('the Ingress default backend answers when no rule matches; 404 (undefined) without one', () => {
    const def = { service: { name: 'fallback', port: { number: 8080 } } };
    const ings = [ingress('d', [{ host: 'a.com', http: { paths: [path('/x', 'Exact', 'x')] } }], { defaultBackend: def })];
    const table = buildRouteTable(ings, byName);
    assert.equal(matchRoute(table, 'a.com', '/x')?.backend, 'default/x:80');
    const m = matchRoute(table, 'a.com', '/y');
    assert.equal(m?.backend, 'default/fallback:8080');
    assert.equal(m?.route, undefined);
    assert.equal(matchRoute(table, 'other.com', '/y')?.backend, 'default/fallback:8080');
    assert.equal(matchRoute(buildRouteTable([ingress('n', [])], byName), 'a.com', '/'), undefined);
  });

  test('a host default backend comes from the Ingress naming the host', () => {
    const ings = [
      ingress('global', [], { defaultBackend: { service: { name: 'global', port: { number: 1 } } } }, '2024-01-01T00:00:00Z'),
      ingress('hosted', [{ host: 'h.com', http: { paths: [path('/only', 'Exact', 'only')] } }], { defaultBackend: { service: { name: 'hosted', port: { number: 2 } } } }, '2024-02-01T00:00:00Z'),
    ];
    assert.equal(route(ings, 'h.com', '/nope'), 'default/hosted:2');
    assert.equal(route(ings, 'x.com', '/nope'), 'default/global:1');
  });

  test('the older Ingress wins a host and path both claim', () => {
    const newer = ingress('newer', [{ host: 'a.com', http: { paths: [path('/', 'Prefix', 'newer')] } }], {}, '2024-05-01T00:00:00Z');
    const older = ingress('older', [{ host: 'a.com', http: { paths: [path('/', 'Prefix', 'older'), path('/new', 'Prefix', 'older-new')] } }], {}, '2024-01-01T00:00:00Z');
    assert.equal(route([newer, older], 'a.com', '/'), 'default/older:80');
    // Paths of different Ingresses for one host merge.
    const merged = [newer, ingress('extra', [{ host: 'a.com', http: { paths: [path('/extra', 'Prefix', 'extra')] } }], {}, '2024-06-01T00:00:00Z')];
    assert.equal(route(merged, 'a.com', '/extra/1'), 'default/extra:80');
    assert.equal(route(merged, 'a.com', '/'), 'default/newer:80');
  });

  test('backends in different namespaces stay apart', () => {
    const ings = [
      ingress('a', [{ host: 'a.com', http: { paths: [path('/', 'Prefix', 'web')] } }], {}, undefined, 'team-a'),
      ingress('b', [{ host: 'b.com', http: { paths: [path('/', 'Prefix', 'web')] } }], {}, undefined, 'team-b'),
    ];
    assert.equal(route(ings, 'a.com', '/'), 'team-a/web:80');
    assert.equal(route(ings, 'b.com', '/'), 'team-b/web:80');
  });

  test('TLS hosts map to their Secret; an entry without hosts covers the rule hosts', () => {
    const ings = [
      ingress('t', [{ host: 'a.com', http: { paths: [path('/', 'Prefix', 'a')] } }, { host: 'b.com' }], {
        tls: [{ hosts: ['A.com', '*.wild.com'], secretName: 'a-tls' }, { secretName: 'rest-tls' }],
      }),
    ];
    const { tls } = buildRouteTable(ings, byName);
    assert.deepEqual(Object.fromEntries([...tls].map(([h, r]) => [h, `${r.namespace}/${r.name}`])), {
      'a.com': 'default/a-tls',
      '*.wild.com': 'default/a-tls',
      'b.com': 'default/rest-tls',
    });
  });
});
