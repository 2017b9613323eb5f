import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, APP_HEADERS, sharedStandIn, sseData } from './standin-client.js'
import { once } from 'node:events'

// Tests make the stand-in fail the way Agent Studio can: a status with the body that status
// has upstream (Algolia's { message, status }; 422 the HTTPValidationError, with the `input`
// and `ctx` pydantic adds: ValidationError.yml), a cut connection, a hang. setFault in-process,
// PUT /__standin/fault from another process.

const shared = sharedStandIn(t)
const path = `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`
const body = { messages: [{ role: 'user', content: 'hi' }] }
/** Sets a fault for one test; it is cleared when that test ends (a per-test teardown, not a root
 * t.afterEach, which would reach the tests of every file after this one in the process). */
const fault = (t: { teardown(fn: () => unknown): void }, value: Parameters<typeof shared.standIn.setFault>[0]) => {
  shared.standIn.setFault(value)
  t.teardown(() => shared.standIn.setFault(null))
}

const statuses: Array<[number, unknown]> = [
  [401, { message: 'Request failed', status: 401 }],
  [403, { message: 'Request failed', status: 403 }],
  [
    422,
    {
      detail: [
        {
          loc: ['body', 'messages', 0],
          msg: 'Invalid message',
          type: 'value_error',
          input: { role: 'user', content: 'echoed request data' },
          ctx: { error: 'internal detail' }
        }
      ]
    }
  ],
  [500, { message: 'Internal server error', status: 500 }],
  [503, { message: 'Internal server error', status: 503 }]
]

for (const [status, expected] of statuses) {
  t.test(`a ${status} fault answers ${status} with the body Agent Studio sends for it, after the request was recorded`, async (t) => {
    fault(t, { kind: 'status', status })
    const before = shared.standIn.received.length
    const answer = await shared.call('POST', path, { body })
    t.equal(answer.status, status)
    t.same(answer.json(), expected)
    t.equal(shared.standIn.received.length, before + 1)
  })
}

/** The next `event` the stand-in emits, or a failure after 5 s. */
const nextEvent = async <T>(emitter: NodeJS.EventEmitter, event: string): Promise<T> =>
  ((await once(emitter, event, { signal: AbortSignal.timeout(5000) })) as [T])[0]

t.test('clearing the fault brings the answers back', async (t) => {
  fault(t, { kind: 'status', status: 500 })
  shared.standIn.setFault(null)
  t.equal((await shared.call('POST', path, { body })).status, 200)
})

t.test('a cut after N events delivers exactly N events, then the connection breaks, reported as an early close', async (t) => {
  fault(t, { kind: 'cut', afterEvents: 3 })
  const closed = nextEvent<{ early: boolean; agentId: string }>(shared.standIn.events, 'stream-closed')
  const response = await request(`${shared.url.href}${path}`, {
    method: 'POST',
    headers: { ...APP_HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  t.equal(response.statusCode, 200)
  let text = ''
  await t.rejects(async () => {
    for await (const chunk of response.body) text += String(chunk)
  })
  t.same(
    (sseData(text) as Array<{ type: string }>).map((event) => event.type),
    ['start', 'start-step', 'text-start']
  )
  t.match(await closed, { agentId: AGENT_ID, early: true })
})

t.test('a hang accepts the request and never answers; the stand-in sees the client leave', async (t) => {
  fault(t, { kind: 'hang' })
  const closed = nextEvent<{ early: boolean; agentId: string }>(shared.standIn.events, 'stream-closed')
  const recorded = nextEvent(shared.standIn.events, 'request')
  const controller = new AbortController()
  const pending = request(`${shared.url.href}${path}`, {
    method: 'POST',
    headers: { ...APP_HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: controller.signal
  })
  await recorded
  t.equal(shared.standIn.openStreams(), 0, 'no answer is being streamed')
  controller.abort()
  await t.rejects(pending, { name: 'AbortError' })
  t.match(await closed, { agentId: AGENT_ID, early: true })
})

t.test('PUT /__standin/fault sets a fault from another process, and null clears it; anything else is a 400', async (t) => {
  t.teardown(() => shared.standIn.setFault(null))
  const put = (fault: unknown) =>
    request(`${shared.url.origin}/__standin/fault`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) }).then(
      async (answer) => ({ status: answer.statusCode, body: await answer.body.json() })
    )
  t.same(await put({ kind: 'status', status: 502 }), { status: 200, body: { fault: { kind: 'status', status: 502 } } })
  t.equal((await shared.call('POST', path, { body })).status, 502)
  t.same(await put(null), { status: 200, body: { fault: null } })
  t.equal((await shared.call('POST', path, { body })).status, 200)
  t.match(await put({ kind: 'explode' }), { status: 400, body: { message: /send null or/ } })
})
