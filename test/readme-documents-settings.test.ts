import { readFileSync } from 'node:fs'
import t from 'tap'
import { ENVIRONMENT_ONLY_VARIABLES, SECRET_VARIABLES, SETTINGS } from '../src/config/settings.js'

// Keeps the README true to the code: a setting added without documentation fails here.
const readme = readFileSync('README.md', 'utf8')
const policyFile = readFileSync('config/gateway.yaml', 'utf8')

t.test('every tunable is in the README table with its file key, and in config/gateway.yaml', async (t) => {
  for (const setting of SETTINGS) {
    t.match(readme, `| \`${setting.env}\` | \`${setting.path.join('.')}\` |`, setting.env)
    t.match(policyFile, new RegExp(`\\b${setting.path[1]}:.*# ${setting.env}\\b`), `${setting.env} in config/gateway.yaml`)
  }
})

t.test('every secret and environment-only variable is documented', async (t) => {
  for (const name of [...SECRET_VARIABLES, ...ENVIRONMENT_ONLY_VARIABLES]) t.match(readme, `\`${name}\``, name)
})
