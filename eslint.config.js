// The code linter: typescript-eslint's strict, type-checked rules over src/. A rule turned off here
// says why; a single exception in the code says why on its own line.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test-output/', 'bench/', 'scripts/', 'test/', 'bin/', '*.config.*'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Numbers read well in messages (`${count} layers`); what stays banned is undefined, objects and unions with them.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `const { check: _, ...outcome } = result` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // `(text) => out(text)` hands a value on; braces around it would say nothing more.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    },
  },
);
