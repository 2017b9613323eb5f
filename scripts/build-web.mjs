#!/usr/bin/env node
// Bundles the browser code (the demo pages and the examples' pages) with esbuild from the npm
// packages in node_modules: nothing is fetched at run time and no bundle is committed
// (web/dist/ and examples/*/dist/ are git-ignored). Run by `npm run build` and `npm test`'s pretest.
import { readdirSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const entries = [
  { in: 'web/demo/instantsearch-chat.ts', out: 'web/dist/demo/instantsearch-chat' },
  { in: 'web/demo/use-chat.tsx', out: 'web/dist/demo/use-chat' }
]
for (const example of readdirSync(join(root, 'examples'), { withFileTypes: true })) {
  const page = join('examples', example.name, 'page.tsx')
  if (example.isDirectory() && existsSync(join(root, page))) entries.push({ in: page, out: join('examples', example.name, 'dist', 'page') })
}

const started = performance.now()
// One build for every page: esbuild parses the shared packages (React, ai, …) once.
await build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir: '.',
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome120', 'firefox120', 'safari17'],
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  logLevel: 'warning'
})
console.log(`build-web: ${entries.length} bundles in ${Math.round(performance.now() - started)} ms`)
