import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'dist-standin/**', 'coverage/**', '.tap/**', 'node_modules/**', 'web/dist/**', 'examples/*/dist/**', '.test-build/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', {
        object: 'process',
        property: 'env',
        message: 'Only src/config reads process.env; receive settings as arguments.'
      }]
    }
  },
  {
    files: ['src/config/**', 'scripts/**', 'bench/**', 'test/**', 'examples/**'],
    rules: { 'no-restricted-properties': 'off' }
  }
)
