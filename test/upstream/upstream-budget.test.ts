// Issue 10: an optional deployment-wide budget of upstream requests, and a hold-off every
// replica respects after Agent Studio answers 429.
import t from 'tap'
import type { Test } from 'tap'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import type { RunningGateway } from '../helpers/gateway.js'
import { injectCompletion } from '../helpers/requests.js'
import { SHARED_REDIS, limitsFile, redisNamespace } from '../helpers/limits.js'
import { DEFAULT_HOLD_OFF_MS, MAX_HOLD_OFF_MS, holdOffSeconds } from '../../src/upstream/hold-off.js'

async function setup(t: Test, limits: Record<string, unknown>, replicas: number, redis: boolean) {
  const { standIn, url } = await startStandIn(t)
  // Load shedding off: a busy machine's 503 overloaded must not stand in for the refusal under test.
  const env = {
    MAX_EVENT_LOOP_DELAY_MS: '0',
    GATEWAY_CONFIG_FILE: limitsFile(limits),
    ...(redis ? { REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: redisNamespace(t) } : {})
  }
  const gateways: RunningGateway[] = []
  for (let i = 0; i < replicas; i++) gateways.push(await startGateway(t, url, { env, listen: false }))
  return { standIn, gateways }
}

const complete = injectCompletion

for (const store of ['memory', 'Redis'] as const) {
  t.test(`${store}: the upstream budget is shared by every user, and a request over it is refused with retry-after`, async (t) => {
    const {
      standIn,
      gateways: [gateway]
    } = await setup(t, { upstreamBudget: { max: 2, windowSeconds: 60 } }, 1, store === 'Redis')
    t.equal((await complete(gateway!, 'u1')).statusCode, 200)
    t.equal((await complete(gateway!, 'u2')).statusCode, 200)
    const refused = await complete(gateway!, 'u3')
    t.equal(refused.statusCode, 429)
    const retry = Number(refused.headers['retry-after'])
    t.ok(retry > 0 && retry <= 60, 'retry-after: when the window ends')
    t.same(refused.json(), {
      error: 'upstream_budget_exhausted',
      message: `The gateway is holding back requests to Agent Studio: its budget of requests to Agent Studio is spent for now; retry in ${retry} seconds.`,
      requestId: refused.headers['x-request-id']
    })
    t.match(gateway!.logs.requests.at(-1), { status: 429, rule: 'upstream_budget', userId: 'u3' })
    t.equal(standIn.received.length, 2, 'the refused request never reached Agent Studio')
  })
}

t.test('the budget is shared by every replica through Redis', async (t) => {
  const {
    standIn,
    gateways: [a, b]
  } = await setup(t, { upstreamBudget: { max: 3, windowSeconds: 60 } }, 2, true)
  t.same([(await complete(a!, 'u1')).statusCode, (await complete(b!, 'u2')).statusCode, (await complete(a!, 'u3')).statusCode], [200, 200, 200])
  t.equal((await complete(b!, 'u4')).statusCode, 429, 'the fourth is refused on the other replica')
  t.equal(standIn.received.length, 3)
})

t.test('after an upstream 429, every replica holds off instead of hammering Agent Studio', async (t) => {
  const {
    standIn,
    gateways: [a, b]
  } = await setup(t, {}, 2, true)
  standIn.setFault({ kind: 'status', status: 429 })
  t.equal((await complete(a!, 'u1')).statusCode, 429)
  t.equal(standIn.received.length, 1)
  standIn.setFault(null)
  for (const gateway of [a!, b!]) {
    const held = await complete(gateway, 'u2')
    t.equal(held.statusCode, 429, 'refused by the gateway itself')
    t.equal(held.json().error, 'upstream_budget_exhausted')
    t.match(held.json().message, /Agent Studio asked it to slow down; retry in \d+ seconds/)
    const retry = Number(held.headers['retry-after'])
    t.ok(
      retry > 0 && retry <= DEFAULT_HOLD_OFF_MS / 1000,
      `retry-after ${retry}: the rest of the hold-off (no retry-after from upstream: ${DEFAULT_HOLD_OFF_MS} ms)`
    )
    t.match(gateway.logs.requests.at(-1), { rule: 'upstream_hold_off' })
  }
  t.equal(standIn.received.length, 1, 'neither replica called Agent Studio during the hold-off')
})

t.test("upstream's retry-after becomes a bounded hold-off (hostile values cannot stop the service)", async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  const table: Array<[string | string[] | undefined, number]> = [
    ['30', 30_000],
    [' 7 ', 7_000],
    ['0', 1000],
    ['Thu, 01 Jan 2026 00:00:45 GMT', 45_000],
    ['99999999', MAX_HOLD_OFF_MS],
    ['Fri, 01 Jan 2100 00:00:00 GMT', MAX_HOLD_OFF_MS],
    ['-5', DEFAULT_HOLD_OFF_MS],
    ['soon', DEFAULT_HOLD_OFF_MS],
    ['1e9', DEFAULT_HOLD_OFF_MS],
    [undefined, DEFAULT_HOLD_OFF_MS],
    [['12', '60'], 12_000]
  ]
  for (const [header, expected] of table) {
    t.equal(holdOffSeconds(header, now) * 1000, expected, `retry-after ${JSON.stringify(header)} → ${expected} ms`)
  }
})
