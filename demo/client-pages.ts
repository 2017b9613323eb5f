import { readFileSync } from 'node:fs'

/**
 * The demo's pages with the real chat clients. Their scripts are bundled by
 * scripts/build-web.mjs (run by `npm start` and `npm test`) into web/dist/demo/
 * alike, and read once at start.
 */
const ASSETS_DIR = new URL('../web/dist/demo/', import.meta.url)

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

/** The demo's users, offered on the sign-in page (any other name of 1-32 [a-z0-9_-] works too). */
export const DEMO_USERS = ['alice', 'bob', 'carol'] as const

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Shared by every demo page (the plain one too): how it looks, and who is signed in. */
export const DEMO_STYLE = `
  body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 0 auto; padding: 1rem; color: #1b1b1b; }
  .banner { background: #fff3cd; border: 2px solid #d39e00; padding: .6rem .8rem; border-radius: 6px; font-weight: 600; }
  .demo-nav { display: flex; flex-wrap: wrap; gap: .3rem 1rem; align-items: center; margin: .8rem 0; }
  .demo-nav .who { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
  .demo-nav form { display: inline; margin: 0; }
  button { padding: .3rem .7rem; cursor: pointer; }`

/**
 * The navigation every demo page carries: the pages, and who is signed in with a sign-out
 * button (a POST: a link would let any page sign the user out) or, signed out, a sign-in link.
 * `here` comes back after signing in or out.
 */
export function demoNavigation(user: string | undefined, here: string): string {
  const next = encodeURIComponent(here)
  const who =
    user === undefined
      ? `<span id="who" data-user="">Not signed in</span> <a id="sign-in" href="/demo/login?next=${next}">Sign in</a>`
      : `<span>Signed in as <b id="who" data-user="${escapeHtml(user)}">${escapeHtml(user)}</b></span>
  <form method="post" action="/demo/logout?next=${next}"><button type="submit" id="sign-out">Sign out</button></form>`
  return `<nav class="demo-nav"><a href="/">Plain page</a> <a href="/demo/instantsearch">InstantSearch chat widget</a> <a href="/demo/use-chat">AI SDK useChat</a>
<span class="who">${who}</span></nav>`
}

const page = (title: string, agentId: string, user: string | undefined, here: string, head: string, body: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title} — DEMO</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
${head}
<style>${DEMO_STYLE}
  #status[hidden] { display: none; } .problem, [role=alert] { color: #b00020; border: 1px solid #b00020; border-radius: 6px; padding: .5rem; margin: .5rem 0; }
  .layout { display: grid; grid-template-columns: 16rem 1fr; gap: 1.5rem; align-items: start; }
  aside { border-right: 1px solid #ddd; padding-right: 1rem; } aside ul { list-style: none; padding: 0; } aside li { margin: .3rem 0; display: flex; gap: .3rem; }
  aside li .history-open { flex: 1; text-align: left; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; } aside li.current .history-open { font-weight: 700; }
  #messages { list-style: none; padding: 0; } #messages li { margin: .5rem 0; padding: .5rem .7rem; border-radius: 8px; background: #f4f6f8; } #messages li.user { background: #e8f0fb; color: #0b5394; }
  .thumbs { margin-left: .5rem; white-space: nowrap; } .thumb { padding: .1rem .4rem; } .empty, .loading { color: #555; }
  #chat { display: flex; gap: .5rem; } #chat input { flex: 1; padding: .5rem; }
  .demo-actions { display: flex; gap: .3rem; align-items: center; }
  .demo-hit { display: flex; flex-direction: column; gap: .3rem; width: 100%; padding: .5rem; box-sizing: border-box; }
  #chat .ais-ChatInlineLayout, #chat .ais-Chat-container { height: 36rem; }
  .demo-hit-image { width: 100%; height: auto; aspect-ratio: 1; border-radius: 6px; background: #f1f3f6; }
  .demo-hit-body { display: flex; flex-direction: column; gap: .15rem; } .demo-hit-brand { font-size: .75rem; color: #666; text-transform: uppercase; letter-spacing: .03em; }
  .demo-hit-name { font-size: .95rem; margin: 0; text-transform: capitalize; } .demo-hit-rating { color: #c98a00; font-size: .85rem; } .demo-hit-price { font-size: 1.05rem; }
  #users { list-style: none; display: flex; gap: .6rem; padding: 0; } #users a { display: inline-block; padding: .5rem 1rem; border: 1px solid #3a6ea5; border-radius: 6px; text-decoration: none; font-weight: 600; }
  #status.status { color: #555; font-size: .9rem; min-height: 1.2em; margin: .3rem 0; }
  .demo-error { color: #b00020; } .demo-error p { margin: .2rem 0; }
</style>
</head>
<body data-agent-id="${agentId}" data-user="${escapeHtml(user ?? '')}">
<p class="banner">DEMO MODE — built-in Agent Studio stand-in and a sign-in that trusts anyone. Never run this in production.</p>
${demoNavigation(user, here)}
${body}
</body>
</html>
`

export const MISSING_BUNDLES = "<!doctype html><p>The demo's browser bundles are missing: run <code>npm run build</code> (npm start does).</p>"

export function instantSearchPage(agentId: string, user: string | undefined): string {
  return page(
    'InstantSearch chat widget',
    agentId,
    user,
    '/demo/instantsearch',
    '<link rel="stylesheet" href="/demo/assets/instantsearch-chat.css">',
    `<h1>InstantSearch.js <code>chat</code> widget through the gateway</h1>
<p><small>Try "[search] trail shoes" for product cards, "[cut]" or "[fail]" to see failures.</small></p>
<p id="status" class="problem" role="status" hidden></p>
<div class="layout">
  <aside><h2>Your conversations</h2><button type="button" id="history-refresh">Refresh</button><ul id="history-list"></ul></aside>
  <main id="chat"></main>
</div>
<script src="/demo/assets/instantsearch-chat.js"></script>`
  )
}

export function useChatPage(agentId: string, user: string | undefined): string {
  return page(
    'AI SDK useChat',
    agentId,
    user,
    '/demo/use-chat',
    '',
    `<h1>AI SDK <code>useChat</code> through the gateway</h1>
<div id="root"></div>
<script src="/demo/assets/use-chat.js"></script>`
  )
}

/** The demo's sign-in: pick a user (the demo trusts whoever clicks). */
export function loginPage(user: string | undefined, next: string, signedOut: boolean): string {
  const back = encodeURIComponent(next)
  const choices = DEMO_USERS.map(
    (name) => `<li><a class="demo-user" data-user="${name}" href="/demo/login?user=${name}&amp;next=${back}">Sign in as ${name}</a></li>`
  ).join('\n')
  return page(
    'Sign in',
    '',
    user,
    next,
    '',
    `<h1>Sign in to the demo</h1>
${signedOut ? '<p id="signed-out">You are signed out: the session cookie is gone.</p>' : ''}
<p>The demo trusts whoever clicks: pick a user. Each one has their own conversations.</p>
<ul id="users">
${choices}
</ul>
<form method="get" action="/demo/login"><input type="hidden" name="next" value="${escapeHtml(next)}">
<label>or another name <input name="user" pattern="[a-z0-9_-]{1,32}" required placeholder="dave"></label> <button type="submit">Sign in</button></form>`
  )
}
