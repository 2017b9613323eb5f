#!/usr/bin/env node
// tap builds its Test class from the plugin list in package.json's `tap` section, and rebuilds it
// when the list changed, but only after it has chosen the loaders for the run it is starting: on a
// fresh `npm ci` (as in CI) every test file of that first run would still load the plugins turned
// off (a TypeScript loader and a mock loader, about a second each). This rebuilds first, only
// when needed.
import { execFileSync } from 'node:child_process'
import { TapConfig } from '@tapjs/config'
import { signature } from '@tapjs/test/test-built'

const config = await TapConfig.load()
if (signature.trim() !== config.pluginSignature) {
  console.log('tap-plugins: rebuilding tap for the plugins in package.json')
  execFileSync(process.execPath, ['node_modules/.bin/tap', 'build'], { stdio: 'inherit' })
}
