import { readFileSync } from 'node:fs'
import t from 'tap'
import { END_MARKER, REFERENCE_FILE, START_MARKER, settingsReference, withSettingsReference } from '../../scripts/config-reference.js'
import { ENVIRONMENT_ONLY_VARIABLES, SECRET_VARIABLES, SETTINGS } from '../../src/config/settings.js'

// Keeps docs/configuration.md true to the code. Its tunables' tables are generated from the
// settings schema (scripts/config-reference.ts, `npm run docs:config`): a setting added, removed
// or changed without running it fails here. The secrets and environment-only variables have no
// schema of their own, so their table stays hand-written and each name must appear in it.
const reference = readFileSync(REFERENCE_FILE, 'utf8')
const policyFile = readFileSync('config/gateway.yaml', 'utf8')

t.test('docs/configuration.md holds exactly what the generator writes from the settings schema', async (t) => {
  t.equal(reference.split(START_MARKER).length, 2, `one ${START_MARKER}`)
  t.equal(reference.split(END_MARKER).length, 2, `one ${END_MARKER}`)
  t.equal(reference, withSettingsReference(reference), 'up to date: if not, run npm run docs:config and commit docs/configuration.md')
})

t.test('the generated part has a row per setting, with its variable, file key and default', async (t) => {
  const generated = settingsReference()
  for (const setting of SETTINGS) {
    t.match(generated, `| \`${setting.env}\` | \`${setting.path.join('.')}\` |`, setting.env)
  }
  t.match(generated, '| `BODY_LIMIT_BYTES` | `policy.bodyLimitBytes` | `2097152` (2 MiB) | integer from 1,024 to 67,108,864 |')
  t.match(
    generated,
    '| `COMPATIBILITY_MODES` | `policy.compatibilityModes` | `ai-sdk-4, ai-sdk-5` | list (comma-separated in the environment) of at least 1, each: one of `ai-sdk-4`, `ai-sdk-5`, `ag-ui` |'
  )
  t.match(generated, '| `UPSTREAM_ORIGIN` | `upstream.origin` | unset |')
  t.match(generated, "`` ^[!#$%&'*+\\-.^_`\\|~0-9A-Za-z]{1,64}$ ``", 'a pattern with a backtick and a pipe stays one code span in one cell')
})

t.test('a changed setting makes the committed document stale', async (t) => {
  const changed = SETTINGS.map((setting) => (setting.env === 'PORT' ? { ...setting, doc: 'listen port, changed' } : setting))
  t.not(withSettingsReference(reference, changed), reference)
  t.throws(() => withSettingsReference('no markers here'), /needs one <!-- settings:start -->/)
})

t.test('every tunable is in config/gateway.yaml with its variable', async (t) => {
  for (const setting of SETTINGS) {
    t.match(policyFile, new RegExp(`\\b${setting.path[1]}:.*# ${setting.env}\\b`), `${setting.env} in config/gateway.yaml`)
  }
})

t.test('every secret and environment-only variable is documented in docs/configuration.md', async (t) => {
  const handWritten = reference.slice(0, reference.indexOf(START_MARKER))
  for (const name of [...SECRET_VARIABLES, ...ENVIRONMENT_ONLY_VARIABLES]) t.match(handWritten, `\`${name}\``, name)
})
