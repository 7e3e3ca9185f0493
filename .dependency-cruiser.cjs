// Layering of src/ (see ARCHITECTURE.md "Source layout"): imports point downward only.
// Each rule names the layer a file lives in and the layers it must not import.
/** @param {string} from @param {string[]} to */
function forbid(name, from, to) {
  return { name, severity: 'error', from: { path: `^src/(${from})/` }, to: { path: `^src/(${to})/` } };
}
const upper = 'apiserver|client|controllers|scheduler|kubelet|proxy|dns|ingress|netpol|sim|agent|cli'; // testing: see src-never-imports-testing
module.exports = {
  forbidden: [
    forbid('base-imports-nothing', 'base', `api|storage|${upper}`),
    forbid('api-only-base', 'api', `storage|${upper}`),
    forbid('storage-only-base', 'storage', `api|${upper}`),
    forbid('apiserver-below-clients', 'apiserver', 'client|controllers|scheduler|kubelet|proxy|dns|ingress|netpol|sim|agent|cli'),
    forbid('client-no-server', 'client', 'apiserver|storage|controllers|scheduler|kubelet|proxy|dns|ingress|netpol|sim|agent|cli'),
    forbid('components-over-api-only', 'controllers|scheduler|kubelet|proxy|dns|ingress|netpol|sim|agent', 'apiserver|storage|cli'),
    forbid('components-independent', 'scheduler|kubelet|proxy|dns|ingress|netpol|sim', 'controllers|agent'),
    forbid('nothing-imports-cli', '(?!cli/)[^/]+', 'cli'),
    {
      name: 'src-never-imports-testing', severity: 'error',
      from: { path: '^src/(?!testing/)', pathNot: '_test\\.ts$' },
      to: { path: '^src/testing/' },
    },
    {
      name: 'one-controller-never-imports-another', severity: 'error',
      from: { path: '^src/controllers/([^/]+)/' },
      to: { path: '^src/controllers/', pathNot: ['^src/controllers/$1/', '^src/controllers/[^/]+\\.ts$'] },
    },
    {
      name: 'scheduler-plugins-only-framework', severity: 'error',
      from: { path: '^src/scheduler/plugins/([^/]+)/' },
      to: { path: '^src/scheduler/', pathNot: ['^src/scheduler/framework/', '^src/scheduler/plugins/$1/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
