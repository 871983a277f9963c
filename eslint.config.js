// Lint: typescript-eslint's recommended rules, promises that are awaited or explicitly voided,
// and the direction of imports between the parts (see ARCHITECTURE.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const folders = ['cli', 'console', 'local', 'operator', 'trader', 'marketdata', 'simulator', 'testing', 'charts'];
/** An import of any of `names` (relative paths, so matched by folder name anywhere in the path). */
const forbid = (names, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: names.flatMap((n) => [`**/${n}/*`, `**/${n}/**`]), message }] }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '*.config.ts', '*.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The console's web UI: plain modules the browser runs as they are.
  { files: ['console/web/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'module' } },
  // Tests and their helpers read untyped JSON; Kysely migrations take Kysely<any> by design.
  { files: ['**/*.test.ts', 'testing/**/*.ts', 'core/db/migrations/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // The ground floor imports nothing above it.
  { files: ['core/**/*.ts'], ignores: ['**/*.test.ts'], rules: forbid(folders, 'core/ is the ground floor: it imports no other part of ats.') },
  // Product code never imports test helpers, and only the local runtime (and the CLI that starts it) runs the simulator.
  {
    files: ['trader/**/*.ts', 'marketdata/**/*.ts', 'operator/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: forbid(
      ['cli', 'local', 'testing', 'simulator', 'charts'],
      'a process imports core/ and its own folder (operator/ may import trader/ contracts), never the CLI, the local runtime, the simulator or test helpers.',
    ),
  },
  {
    files: ['simulator/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: forbid(['cli', 'local', 'operator', 'trader', 'marketdata', 'testing', 'charts'], 'the simulator stands for Binance: it imports only core/.'),
  },
  {
    files: ['console/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: forbid(
      ['cli', 'trader', 'marketdata', 'simulator', 'testing', 'charts'],
      'the console imports core/, the TradingAccount contract (operator/) and the manifest folders (local/): never a trading process, the simulator or test helpers.',
    ),
  },
  { files: ['local/**/*.ts', 'cli/**/*.ts'], ignores: ['**/*.test.ts'], rules: forbid(['testing', 'charts'], 'product code never imports test helpers.') },
);
