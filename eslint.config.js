import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'standin/dist/**', 'coverage/**', '.tap/**', 'node_modules/**', 'web/dist/**', 'examples/*/dist/**', '.test-build/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only src/config reads process.env; receive settings as arguments.'
        }
      ]
    }
  },
  {
    // Programs' entry points and their configuration: the stand-in's and the demo's read their own environment.
    files: ['src/config/**', 'scripts/**', 'bench/**', 'test/**', 'examples/**', 'standin/src/config.ts', 'standin/test/**', 'demo/main.ts'],
    rules: { 'no-restricted-properties': 'off' }
  }
)
