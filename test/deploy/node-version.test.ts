// Issue 19.3: README and `engines` said Node ≥ 20, packages needed 22 (cookie@2 at run time,
// through Fastify), and the image ran 24. One floor now, the same everywhere.
import { readFileSync } from 'node:fs'
import semver from 'semver'
import t from 'tap'

const read = (path: string) => readFileSync(path, 'utf8')
const installedVersion = /^ASG_NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(read('scripts/use-node.sh'))?.[1] ?? ''
const installed = installedVersion.split('.')[0]
const floor = /^>=(\d+)$/.exec((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node)?.[1]

t.test('engines, the installed Node, the Dockerfile, .ci/run and the README name one floor', async (t) => {
  t.equal(floor, '24', 'package.json engines.node is >=24')
  t.equal(installed, floor, 'scripts/use-node.sh installs that major version')
  const images = [...read('Dockerfile').matchAll(/^FROM node:(\d+)-/gm)].map((match) => match[1])
  t.ok(images.length >= 2)
  t.same(new Set(images), new Set([floor]), 'every Dockerfile stage runs the same major version')
  t.match(read('.ci/run'), /^\. scripts\/use-node\.sh$/m, 'CI runs on it')
  t.match(read('README.md'), new RegExp(`Node\\.js ≥ ${floor}`), 'the README says so')
})

t.test('every package in the lock file accepts the floor', async (t) => {
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } }> }
  const refusing = Object.entries(lock.packages)
    .filter(([, pkg]) => typeof pkg.engines?.node === 'string')
    .filter(([, pkg]) => !semver.satisfies(installedVersion, pkg.engines!.node!))
    .map(([name, pkg]) => `${name}: ${pkg.engines!.node!}`)
  t.same(refusing, [], `no EBADENGINE on Node ${installedVersion}, the version installed`)
})

t.test('the tests themselves run on the floor, as the image does', async (t) => {
  t.ok(Number(process.versions.node.split('.')[0]) >= Number(floor), `running on Node ${process.versions.node}`)
})
