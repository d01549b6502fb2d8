export default {
  globs: ['src/**/*.ts'],
  exclude: ['src/**/*.test.ts', 'src/**/test-helpers/**', 'src/transport/contract.ts'],
  outdir: '.',
  litelement: true,
  dependencies: false,
  packagejson: false,
};
