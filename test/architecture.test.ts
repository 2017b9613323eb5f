import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import t from 'tap'

// Issue 25: the shape of the code, checked on every run. src/ is the gateway and nothing else;
// the stand-in (standin/) and the demo (demo/) sit outside it; imports run one way, with no
// circle of files and no circle of folders (a folder importing "upward" makes one), type-only
// imports included. Read from the sources' own import lines, as a reviewer would.

const root = join(import.meta.dirname, '..')
const repository = root.endsWith('.test-build') ? dirname(root) : root

function sources(dir: string): string[] {
  return readdirSync(join(repository, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => relative(repository, join(entry.parentPath, entry.name)))
}

/** Each file's relative imports (static, type-only and dynamic), as repository paths of .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(repository, file), 'utf8')
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"\n]*?(?:from\s*)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)
  ].map((m) => m[1] ?? m[2]!)
  return specifiers.map((specifier) => normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts'))
}

/** The circles of a graph (Tarjan's strongly connected components of more than one node, or a node importing itself). */
function circles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0
  const indexOf = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const found: string[][] = []
  const visit = (node: string) => {
    indexOf.set(node, index)
    low.set(node, index++)
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (!indexOf.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (stack.includes(next)) low.set(node, Math.min(low.get(node)!, indexOf.get(next)!))
    }
    if (low.get(node) === indexOf.get(node)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        component.push(member)
      } while (member !== node)
      if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort())
    }
  }
  for (const node of graph.keys()) if (!indexOf.has(node)) visit(node)
  return found
}

const gateway = sources('src')
const imports = new Map(gateway.map((file) => [file, importsOf(file)]))

t.test('src/ holds the gateway only: nothing in it imports from outside src/', async (t) => {
  const outside = [...imports].flatMap(([file, targets]) => targets.filter((target) => !target.startsWith('src/')).map((target) => `${file} -> ${target}`))
  t.same(outside, [], 'the stand-in (standin/), the demo (demo/), tests and scripts are out of reach')
  t.same(
    gateway.filter((file) => /standin|demo/.test(file)),
    [],
    'no stand-in or demo file under src/'
  )
})

t.test('no circle of files in src/, type-only imports included', async (t) => {
  const graph = new Map([...imports].map(([file, targets]) => [file, new Set(targets)]))
  t.same(circles(graph), [])
})

t.test('no circle of folders in src/: every import runs downward', async (t) => {
  // A folder of src/ (or a file at its top) is one room; an import from a room to one that
  // imports it back is an upward import.
  const room = (file: string) => file.split('/').slice(0, 2).join('/')
  const graph = new Map<string, Set<string>>()
  for (const [file, targets] of imports) {
    for (const target of targets) {
      if (room(target) === room(file)) continue
      graph.set(room(file), (graph.get(room(file)) ?? new Set()).add(room(target)))
    }
  }
  const found = circles(graph)
  const ties = found.map((circle) =>
    [...imports].flatMap(([file, targets]) =>
      targets
        .filter((target) => circle.includes(room(file)) && circle.includes(room(target)) && room(file) !== room(target))
        .map((target) => `${file} -> ${target}`)
    )
  )
  t.same(ties, [], 'each circle listed with the imports that make it')
})

t.test('the stand-in imports nothing of the gateway, and has no circle either', async (t) => {
  const standIn = sources('standin/src')
  const standInImports = new Map(standIn.map((file) => [file, importsOf(file)]))
  const outside = [...standInImports].flatMap(([file, targets]) =>
    targets.filter((target) => !target.startsWith('standin/src/')).map((target) => `${file} -> ${target}`)
  )
  t.same(outside, [])
  t.same(circles(new Map([...standInImports].map(([file, targets]) => [file, new Set(targets)]))), [])
})

t.test('the checks above would see a circle and an outside import', async (t) => {
  // The reader and the circle finder themselves, on a made-up graph: a test that cannot fail proves nothing.
  t.same(
    circles(
      new Map([
        ['a', new Set(['b'])],
        ['b', new Set(['c'])],
        ['c', new Set(['a'])],
        ['d', new Set(['a'])]
      ])
    ),
    [['a', 'b', 'c']]
  )
  t.ok(importsOf('demo/main.ts').includes('src/serve.ts'), "the demo's imports are read (demo/main.ts -> src/serve.ts)")
  t.ok(importsOf('src/tracing/tracing.ts').includes('src/tracing/otel.ts'), 'dynamic and type-only imports are read')
})
