import { readFileSync } from 'node:fs'

/**
 * The demo's pages with the real chat clients. Their scripts are bundled by
 * scripts/build-web.mjs (run by `npm run build`) into web/dist/demo/, beside src/ and dist/
 * alike, and read once at start.
 */
const ASSETS_DIR = new URL('../../web/dist/demo/', import.meta.url)

export const ASSET_TYPES: Readonly<Record<string, string>> = {
  'instantsearch-chat.js': 'text/javascript; charset=utf-8',
  'instantsearch-chat.css': 'text/css; charset=utf-8',
  'use-chat.js': 'text/javascript; charset=utf-8'
}

/** The bundles, or undefined when `npm run build` has not made them yet. */
export function readAssets(): ReadonlyMap<string, Buffer> | undefined {
  try {
    return new Map(Object.keys(ASSET_TYPES).map((name) => [name, readFileSync(new URL(name, ASSETS_DIR))]))
  } catch {
    return undefined
  }
}

const page = (title: string, agentId: string, head: string, body: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title} — DEMO</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
${head}
<style>
  body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 0 auto; padding: 1rem; color: #1b1b1b; }
  .banner { background: #fff3cd; border: 2px solid #d39e00; padding: .6rem .8rem; border-radius: 6px; font-weight: 600; }
  #status[hidden] { display: none; } .problem, [role=alert] { color: #b00020; border: 1px solid #b00020; border-radius: 6px; padding: .5rem; }
  .layout { display: grid; grid-template-columns: 16rem 1fr; gap: 1rem; } #history-list { padding-left: 1rem; }
  #messages { list-style: none; padding: 0; } #messages li { margin: .4rem 0; } .user { color: #0b5394; }
  form { display: flex; gap: .5rem; } input { flex: 1; padding: .5rem; } button { padding: .3rem .7rem; }
  .demo-actions { display: flex; gap: .3rem; align-items: center; }
</style>
</head>
<body data-agent-id="${agentId}">
<p class="banner">DEMO MODE — built-in Agent Studio stand-in and a sign-in that trusts anyone. Never run this in production.</p>
<p><a href="/">Plain page</a> · <a href="/demo/instantsearch">InstantSearch chat widget</a> · <a href="/demo/use-chat">AI SDK useChat</a> · signed in? <a href="/demo/login?user=alice">alice</a> / <a href="/demo/login?user=bob">bob</a> · <a href="/demo/logout">sign out</a></p>
${body}
</body>
</html>
`

export const MISSING_BUNDLES = '<!doctype html><p>The demo\'s browser bundles are missing: run <code>npm run build</code> (npm start does).</p>'

export function instantSearchPage(agentId: string): string {
  return page('InstantSearch chat widget', agentId, '<link rel="stylesheet" href="/demo/assets/instantsearch-chat.css">', `<h1>InstantSearch.js <code>chat</code> widget through the gateway</h1>
<p id="status" class="problem" role="status" hidden></p>
<div class="layout">
  <aside><h2>Your conversations</h2><button type="button" id="history-refresh">Refresh</button> <button type="button" id="open-chat">Open chat</button><ul id="history-list"></ul></aside>
  <main id="chat"></main>
</div>
<script src="/demo/assets/instantsearch-chat.js"></script>`)
}

export function useChatPage(agentId: string): string {
  return page('AI SDK useChat', agentId, '', `<h1>AI SDK <code>useChat</code> through the gateway</h1>
<p><small>Try "[cut]" or "[fail]" in a message to see failures.</small></p>
<div id="app"></div>
<script src="/demo/assets/use-chat.js"></script>`)
}
