import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import t from 'tap'

// Issue 25: the README is the front page (at most 250 lines: what it is, the two commands, a
// walk-through, links); everything else lives in docs/ by audience. A moved section must not leave
// a dead link behind: every relative link of the README, docs/*.md and standin/README.md names a
// file that exists and, when it has one, an anchor that is a heading of that file.
const README_MAX_LINES = 250
const DOCUMENTS = [
  'README.md',
  'standin/README.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`)
]

/** The text outside fenced code blocks and code spans, where Markdown links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/(`+)[\s\S]*?\1/g, '')
}

/** GitHub's heading anchors (github-slugger): lower case, punctuation dropped, each space a dash, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>()
  const counts = new Map<string, number>()
  const withoutCode = markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
  for (const [, heading] of withoutCode.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const text = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-')
    const seen = counts.get(slug) ?? 0
    counts.set(slug, seen + 1)
    found.add(seen === 0 ? slug : `${slug}-${seen}`)
  }
  return found
}

/** Inline links and images `[text](target "title")`, relative ones only. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(<?([^)\s>]+)>?(?: "[^"]*")?\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
}

t.test(`README.md is at most ${README_MAX_LINES} lines`, async (t) => {
  const lines = readFileSync('README.md', 'utf8').split('\n')
  if (lines.at(-1) === '') lines.pop()
  t.ok(lines.length <= README_MAX_LINES, `README.md has ${lines.length} lines`)
})

t.test('every relative link of the README and the docs names an existing file and heading', async (t) => {
  for (const document of DOCUMENTS) {
    for (const link of relativeLinks(readFileSync(document, 'utf8'))) {
      const [path, anchor] = link.split('#') as [string, string | undefined]
      const target = path === '' ? document : normalize(join(dirname(document), decodeURIComponent(path)))
      if (!existsSync(target)) {
        t.fail(`${document}: ${link} names ${target}, which does not exist`)
        continue
      }
      if (anchor === undefined || anchor === '') continue
      if (!target.endsWith('.md') || statSync(target).isDirectory()) {
        t.fail(`${document}: ${link} has an anchor into a file that is not Markdown`)
        continue
      }
      t.ok(anchors(readFileSync(target, 'utf8')).has(anchor), `${document}: ${link} (a heading of ${target})`)
    }
  }
})

t.test("the README's documentation map links every document", async (t) => {
  const linked = new Set(relativeLinks(readFileSync('README.md', 'utf8')).map((link) => link.split('#')[0]))
  for (const document of DOCUMENTS.filter((path) => path !== 'README.md')) t.ok(linked.has(document), document)
})

t.test("the anchors are GitHub's", async (t) => {
  const headings = anchors(
    '# A b\n## `POST /search-key`: how the browser gets a search key\n## Rotation runbook (no downtime)\n## A b\n```\n# not a heading\n```\n## `server`\n'
  )
  t.same([...headings], ['a-b', 'post-search-key-how-the-browser-gets-a-search-key', 'rotation-runbook-no-downtime', 'a-b-1', 'server'])
  t.same(relativeLinks('[a](x.md#y) `[b](no.md)` [c](https://example.com) ![d](img.png)\n```\n[e](no.md)\n```\n'), ['x.md#y', 'img.png'])
})
