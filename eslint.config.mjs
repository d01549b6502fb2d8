import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import lit from 'eslint-plugin-lit';
import wc from 'eslint-plugin-wc';
import litA11y from 'eslint-plugin-lit-a11y';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'test-fixtures/', 'custom-elements.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    languageOptions: { globals: globals.browser },
    ...lit.configs['flat/recommended'],
  },
  { files: ['src/**/*.ts'], ...wc.configs['flat/recommended'] },
  { files: ['src/**/*.ts'], ...litA11y.configs.recommended },
  {
    files: [
      'server/**/*.ts',
      'scripts/**/*.mjs',
      'bench/**/*.mjs',
      'e2e/**/*.ts',
      '*.mjs',
      'demo/**/*.mjs',
    ],
    languageOptions: { globals: { ...globals.node } },
  },
);
