/* global module */
// Which code may import which (`npm run deps`, part of `npm test`). The picture these rules
// enforce is in docs/design.md, "The server's parts and layers".
//
// The server's folders in layers, top to bottom: a module may import its own layer and the
// layers below it, never one above. Every folder is its own layer, so two folders can never
// import each other; the order among siblings (jobs above uploads, say) follows the imports.
const SERVER_LAYERS = [
  ['commands', '^server/(main|erase)\\.ts$'],
  ['composition', '^server/(compose|backends)\\.ts$'],
  ['http surface', '^server/app\\.ts$'],
  ['configuration', '^server/config\\.ts$'],
  ['api', '^server/api/'],
  ['jobs', '^server/jobs/'],
  ['uploads', '^server/uploads/'],
  ['events', '^server/events/'],
  ['convert', '^server/convert/'],
  ['limits', '^server/limits/'],
  ['wire', '^server/wire\\.ts$'],
  ['store', '^server/store/'],
  ['media', '^server/media/'],
  ['auth', '^server/auth/'],
  ['http', '^server/http/'],
  ['observability', '^server/observability/'],
  ['ids', '^server/ids\\.ts$'],
];

// What runs only in tests: test files, their fixtures and helpers, and the tooling around them.
const TEST_ONLY = [
  '\\.test\\.ts$',
  '\\.fixtures?\\.ts$',
  '^src/test-helpers/',
  '^server/test/',
  '^test/',
  '^e2e/',
  '^bench/',
  '^scripts/',
];

const serverLayerRules = SERVER_LAYERS.slice(1).map(([name, path], index) => ({
  name: `server-layer-${name.replace(/ /g, '-')}`,
  comment: `The server's ${name} may not import a layer above it (${SERVER_LAYERS.slice(
    0,
    index + 1,
  )
    .map(([upper]) => upper)
    .join(', ')}).`,
  severity: 'error',
  from: { path, pathNot: TEST_ONLY },
  to: { path: SERVER_LAYERS.slice(0, index + 1).map(([, upper]) => upper) },
}));

const ELEMENTS = '^src/(chat|recorder|player)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment:
        'No module reaches itself through its imports. A part may name its host by a type-only ' +
        'import (erased at build), so those do not count.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...serverLayerRules,
    {
      name: 'src-never-imports-server',
      comment: 'The browser library ships alone: it never imports the reference server.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^server/' },
    },
    {
      name: 'server-imports-only-the-wire-protocol-from-src',
      comment:
        "The server shares the protocol's types with the browser library (src/transport/wire.ts, " +
        'errors.ts), as types only; nothing else of src/ runs on the server.',
      severity: 'error',
      from: { path: '^server/', pathNot: TEST_ONLY },
      to: {
        path: '^src/',
        pathNot: '^src/transport/(wire|errors|error-codes)\\.ts$',
      },
    },
    {
      name: 'server-imports-src-as-types-only',
      severity: 'error',
      from: { path: '^server/', pathNot: TEST_ONLY },
      to: { path: '^src/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'production-never-imports-tests',
      comment: 'What ships imports no test, fixture, test helper, bench or script.',
      severity: 'error',
      from: { path: ['^src/', '^server/'], pathNot: TEST_ONLY },
      to: { path: TEST_ONLY },
    },
    {
      name: 'no-importing-test-files',
      comment:
        'A test file is run, never imported: shared helpers go in a fixtures or helpers file.',
      severity: 'error',
      from: {},
      to: { path: '\\.test\\.ts$' },
    },
    {
      name: 'server-test-helpers-live-with-the-tests',
      comment:
        "The server's folders hold what runs in production; its tests' helpers and fixtures are " +
        'in server/test/.',
      severity: 'error',
      from: { path: '^server/' },
      to: { path: '^server/(?!test/).*(\\.fixtures?\\.ts|/[^/]*test-[^/]*\\.ts)$' },
    },
    {
      name: 'src-transport-is-the-bottom',
      comment: 'The transports (src/transport/) know nothing of the elements, outbox or i18n.',
      severity: 'error',
      from: { path: '^src/transport/', pathNot: TEST_ONLY },
      to: { path: '^src/', pathNot: '^src/transport/' },
    },
    {
      name: 'src-outbox-uses-only-transport',
      severity: 'error',
      from: { path: '^src/outbox/', pathNot: TEST_ONLY },
      to: { path: '^src/', pathNot: ['^src/outbox/', '^src/transport/'] },
    },
    {
      name: 'src-elements-do-not-import-each-other',
      comment:
        'The chat, recorder and player are loaded on their own; one reaches another through ' +
        'src/internal/lazy-elements.ts.',
      severity: 'error',
      from: { path: ELEMENTS, pathNot: TEST_ONLY },
      to: { path: ELEMENTS, pathNot: '^src/$1/' },
    },
    {
      name: 'src-internal-loads-elements-lazily',
      comment: 'The shared kit (src/internal/) loads an element only by a dynamic import.',
      severity: 'error',
      from: { path: ['^src/internal/', '^src/i18n/'], pathNot: TEST_ONLY },
      to: { path: ELEMENTS, dependencyTypesNot: ['dynamic-import'] },
    },
    {
      name: 'src-i18n-names-internal-types-only',
      comment: 'A translation names the kit by type; the kit loads the translations on demand.',
      severity: 'error',
      from: { path: '^src/i18n/', pathNot: TEST_ONLY },
      to: { path: '^src/internal/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'src-parts-name-their-host-by-type-only',
      comment:
        "An element's parts (sessions, panels, takes) sit below the element: one that needs its " +
        "host's type imports it type-only.",
      severity: 'error',
      from: {
        path: '^src/(chat|recorder|player)/(?!index\\.ts$)[^/]+\\.ts$',
        pathNot: TEST_ONLY,
      },
      to: {
        path: '^src/$1/reel-$1\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)dist/', '(^|/)node_modules/', '^bench/out/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
