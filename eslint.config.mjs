// The architecture as lint rules: which folder may import which (docs/ARCHITECTURE.md draws the
// same picture), no import cycles, no floating promises, no function over 60 lines outside tests.
// `npm run lint` runs ESLint and Prettier's check; .ci/run runs it before the tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** Folders of the development side; the deployed service (src/) imports none of them. */
const TOOLING = ['emulator', 'studio', 'tools', 'bench', 'chaos', 'verify', 'relay', 'tests', 'backends', 'dev'];

/** `no-restricted-imports` patterns for relative imports reaching into `folders` from any depth. */
function intoFolders(folders, message) {
  return folders.map((folder) => ({ group: [`**/${folder}`, `**/${folder}/**`], message }));
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'relay/node_modules/**',
      '.local/**',
      'coverage/**',
      'verify/.stage-*/**',
      'eslint.config.mjs',
      'jest.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-require-imports': 'off',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // No function over 60 lines outside tests: a longer one is split into named stages.
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
  // Plain CommonJS (the probe endpoint verify:live deploys, child-process runners): the same
  // rules, without the type-aware ones, and the globals Node and the Functions runtime provide.
  {
    files: ['**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: false },
      sourceType: 'commonjs',
      globals: Object.fromEntries(
        [
          ...[
            'require',
            'module',
            'exports',
            'process',
            'console',
            'Buffer',
            '__dirname',
            'setTimeout',
            'clearTimeout',
          ],
          ...['fetch', 'URL', 'URLSearchParams', 'AbortSignal', 'Twilio', 'Runtime'],
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  // The deployed service imports no tooling.
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: intoFolders(TOOLING, 'src/ is what gets deployed: it imports no development tooling.') },
      ],
    },
  },
  // The job domain is free of Twilio and HTTP: it reaches them through ports.
  {
    files: ['src/lib/jobs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'twilio',
              message:
                'The job domain reaches Twilio through its ports (src/lib/voice, src/lib/messaging, src/lib/store).',
            },
          ],
          patterns: [
            ...intoFolders(TOOLING, 'src/ is what gets deployed: it imports no development tooling.'),
            {
              group: ['**/http', '**/http/**', '**/twilio-client', '**/twilio/**'],
              message: 'The job domain raises domain errors; only the HTTP edge maps them to status codes.',
            },
          ],
        },
      ],
    },
  },
  // The emulator's Twilio side, and the flow runner's simulated Studio and Voice, are witnesses:
  // they take nothing from the code they check.
  {
    files: [
      'emulator/**/*.ts',
      'studio/platform.ts',
      'studio/runner/studio-http.ts',
      'studio/runner/widgets*.ts',
      'studio/runner/voice-call.ts',
      'studio/runner/twiml.ts',
      'studio/runner/run-flow.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: intoFolders(
            ['src'],
            "The emulator plays Twilio from Twilio's documentation, not from the service's code.",
          ),
        },
      ],
    },
  },
  // A backend implements the service's contract: from src/ it takes the contract and the signing, nothing else.
  {
    files: ['backends/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)src/(?!lib/contracts$|lib/backend/signing$)',
              message:
                "A backend speaks the contract (src/lib/contracts, src/lib/backend/signing); it uses none of the service's own code.",
            },
          ],
        },
      ],
    },
  },
  // Tests may be long (a describe body is a list of cases), and may float a promise on purpose.
  // Their regexes copy column-aligned command output, spaces and all.
  {
    files: ['tests/**/*.ts'],
    rules: { 'max-lines-per-function': 'off', 'no-regex-spaces': 'off' },
  },
);
