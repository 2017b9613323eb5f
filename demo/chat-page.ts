import { DEMO_STYLE, demoNavigation } from './client-pages.js'

/** The demo's chat page: plain HTML and a small script, no build step, no credential in sight. */
export function chatPage(agentId: string, user: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Agent Studio Gateway — DEMO</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${DEMO_STYLE}
  body { max-width: 46rem; }
  #log { border: 1px solid #ccc; border-radius: 6px; min-height: 12rem; padding: .6rem; margin: 1rem 0; white-space: pre-wrap; }
  .user { color: #0b5394; margin: .3rem 0; } .assistant { margin: .3rem 0 .8rem; } .error { color: #b00020; }
  form#chat { display: flex; gap: .5rem; } #question { flex: 1; padding: .5rem; } #send { padding: .5rem 1rem; }
  small { color: #555; }
</style>
</head>
<body>
<p class="banner">DEMO MODE — built-in Agent Studio stand-in and a sign-in that trusts anyone. Never run this in production.</p>
${demoNavigation(user, '/')}
<h1>Agent Studio chat through the gateway</h1>
<p>The same chat with the real clients: <a href="/demo/instantsearch">InstantSearch chat widget</a> (product cards, history, thumbs) · <a href="/demo/use-chat">AI SDK useChat</a> (stop, regenerate, resume, history, thumbs)</p>
<p><small>The browser holds only the app's own session cookie (HttpOnly). The gateway mints the Algolia user token and adds the keys. Try "[cut]" or "[fail]" in a message to see failures.</small></p>
<div id="log" aria-live="polite"></div>
<form id="chat"><input id="question" name="question" autocomplete="off" placeholder="Ask the agent something" required><button id="send">Send</button></form>
<script src="/demo/chat.js" data-agent-id="${agentId}"></script>
</body>
</html>
`
}

export const CHAT_SCRIPT = `'use strict'
const agentId = document.currentScript.dataset.agentId
const log = document.getElementById('log')
const form = document.getElementById('chat')
const input = document.getElementById('question')
const conversationId = 'alg_cnv_' + crypto.randomUUID().replaceAll('-', '')
const messages = []

function line (className, text) {
  const element = document.createElement('div')
  element.className = className
  element.textContent = text
  log.appendChild(element)
  return element
}

form.addEventListener('submit', async (event) => {
  event.preventDefault()
  const text = input.value.trim()
  if (!text) return
  input.value = ''
  messages.push({ id: 'alg_msg_' + crypto.randomUUID().replaceAll('-', ''), role: 'user', parts: [{ type: 'text', text }] })
  line('user', 'You: ' + text)
  const answer = line('assistant', 'Agent: ')
  const response = await fetch('/agent-studio/1/agents/' + encodeURIComponent(agentId) + '/completions?compatibilityMode=ai-sdk-5', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: conversationId, messages })
  })
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ message: response.statusText }))
    answer.className = 'error'
    answer.textContent = 'Error ' + response.status + ': ' + problem.message
    return
  }
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let reply = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += decoder.decode(value, { stream: true })
    let end
    while ((end = buffer.indexOf('\\n\\n')) !== -1) {
      const eventText = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      if (!eventText.startsWith('data: ') || eventText === 'data: [DONE]') continue
      const chunk = JSON.parse(eventText.slice(6))
      if (chunk.type === 'text-delta') {
        reply += chunk.delta
        answer.textContent = 'Agent: ' + reply
      } else if (chunk.type === 'error') {
        answer.className = 'error'
        answer.textContent = 'Agent: ' + reply + ' — ' + chunk.errorText
      }
    }
  }
  messages.push({ id: 'alg_msg_' + crypto.randomUUID().replaceAll('-', ''), role: 'assistant', parts: [{ type: 'text', text: reply }] })
})
`
