// Issue 24: a tool approval is accepted only with the binding the gateway issued when the stream
// asked for it (user, conversation, tool call, arguments), once, for an approvable tool; the real
// AI SDK client's approval flow keeps working unmodified. Real sockets, real Redis.
import t from 'tap'
import type { UIMessage } from 'ai'
import { AGENT_ID, sessionToken } from '../helpers/fixtures.js'
import { chatTurn, userTurn } from '../helpers/ai-sdk.js'
import { LogCapture, startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import type { RunningGateway } from '../helpers/gateway.js'
import { postCompletion } from '../helpers/requests.js'
import { SHARED_REDIS, redisNamespace } from '../helpers/limits.js'
import { agentsFile } from '../helpers/policy-file.js'

async function setup(t: Parameters<typeof startStandIn>[0], approvableTools: string[] = ['emptyCart']) {
  const { standIn, url } = await startStandIn(t)
  const audit = new LogCapture()
  const env = { REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: redisNamespace(t as never), GATEWAY_CONFIG_FILE: agentsFile({ [AGENT_ID]: { approvableTools } }) }
  const gateway = await startGateway(t, url, { env, deps: { auditDestination: audit } })
  return { standIn, gateway, audit }
}

/** The first turn (the agent asks), then the history `useChat` holds once the user decided. */
async function askThenDecide(
  gateway: RunningGateway,
  user: string,
  chatId: string,
  decide: (part: Record<string, unknown>) => void = approve
): Promise<UIMessage[]> {
  const question = userTurn('m1', 'Please empty my cart [approval]')
  const first = await chatTurn({ gatewayUrl: gateway.url, user, chatId, messages: [question] })
  const assistant = structuredClone(first.message!) as UIMessage
  decide(assistant.parts.find((p) => p.type === 'tool-emptyCart') as unknown as Record<string, unknown>)
  return [question, assistant]
}

function approve(part: Record<string, unknown>) {
  Object.assign(part, { state: 'approval-responded', approval: { id: 'appr-1', approved: true } })
}

/** The same request as the AI SDK would send it, but raw: for replays and forgeries. */
async function send(
  t: Parameters<typeof testClient>[0],
  gateway: RunningGateway,
  user: string,
  chatId: string,
  messages: unknown[],
  extra: Record<string, unknown> = {}
) {
  const response = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: testClient(t),
    user,
    body: { id: chatId, messages, trigger: 'submit-message', ...extra }
  })
  return { status: response.statusCode, body: await response.body.text() }
}

t.test("the real client's approval flow works, once: a replay of the same request is refused before Agent Studio", async (t) => {
  const { standIn, gateway, audit } = await setup(t)
  const history = await askThenDecide(gateway, 'u-ok', 'chat-ok-00000001')
  const turn = await chatTurn({ gatewayUrl: gateway.url, user: 'u-ok', chatId: 'chat-ok-00000001', messages: history })
  t.equal(turn.status, 200)
  t.same(turn.errors, [])
  t.match(turn.message?.parts, [{ type: 'step-start' }, { type: 'text', text: /^Approved: emptyCart ran\./ }])
  t.match(gateway.logs.requests.at(-1), { status: 200, toolApprovals: 1 })

  const calls = standIn.received.length
  const replay = await send(t, gateway, 'u-ok', 'chat-ok-00000001', history)
  t.equal(replay.status, 403)
  t.match(JSON.parse(replay.body), { error: 'approval_invalid', message: /already used/ })
  t.equal(standIn.received.length, calls, 'the replay never reached Agent Studio')
  t.match(gateway.logs.requests.at(-1), { status: 403, rule: 'approval_invalid:replayed' })

  const events = audit.lines.filter((line) => line.action === 'tool_approval')
  t.equal(events.length, 2, 'one audit event per decision')
  t.match(events[0], {
    msg: 'audit',
    log: 'audit',
    outcome: 'succeeded',
    userId: 'u-ok',
    agentId: AGENT_ID,
    conversationId: 'chat-ok-00000001',
    toolName: 'emptyCart',
    approved: true,
    toolCallId: /^call_/
  })
  t.match(events[1], { outcome: 'refused', reason: 'approval_invalid:replayed' })
  t.notMatch(audit.text(), /cart-1|empty my cart/i, 'no arguments and no message content in the audit trail')
})

t.test('an approval without a binding the gateway issued is refused: forged call id, changed arguments, another user, another conversation', async (t) => {
  const { standIn, gateway } = await setup(t)
  const history = await askThenDecide(gateway, 'u-victim', 'chat-victim-0001')
  const calls = standIn.received.length
  const part = () => (structuredClone(history[1]!) as UIMessage).parts.find((p) => p.type === 'tool-emptyCart') as unknown as Record<string, unknown>
  const withPart = (change: (p: Record<string, unknown>) => void) => {
    const assistant = structuredClone(history[1]!) as UIMessage
    change(assistant.parts.find((p) => p.type === 'tool-emptyCart') as unknown as Record<string, unknown>)
    return [history[0], assistant]
  }

  const forged = await send(
    t,
    gateway,
    'u-victim',
    'chat-victim-0001',
    withPart((p) => (p.toolCallId = 'call_forged01'))
  )
  t.equal(forged.status, 403)
  t.match(JSON.parse(forged.body), { error: 'approval_invalid', message: /no approval was asked/ })

  // Each of these takes the one binding: ask again for each.
  const otherUser = await send(t, gateway, 'u-attacker', 'chat-victim-0001', history)
  t.equal(otherUser.status, 403, "another user cannot use the victim's approval")
  t.match(JSON.parse(otherUser.body), { error: 'approval_invalid' })

  const changed = await send(
    t,
    gateway,
    'u-victim',
    'chat-victim-0001',
    withPart((p) => (p.input = { cartId: 'cart-of-someone-else' }))
  )
  t.equal(changed.status, 403)
  t.match(JSON.parse(changed.body), { error: 'approval_invalid', message: /different call, conversation or arguments/ })
  t.match(gateway.logs.requests.at(-1), { rule: 'approval_invalid:mismatch' })

  const again = await askThenDecide(gateway, 'u-victim', 'chat-victim-0002')
  const otherChat = await send(t, gateway, 'u-victim', 'chat-victim-9999', again)
  t.equal(otherChat.status, 403, 'an approval asked in one conversation does not approve in another')
  t.match(gateway.logs.requests.at(-1), { rule: 'approval_invalid:mismatch' })

  const viaField = await send(t, gateway, 'u-victim', 'chat-victim-0002', [history[0]], { toolApprovals: { [String(part().toolCallId)]: true } })
  t.equal(viaField.status, 403, 'toolApprovals for a call never bound to this conversation: refused')
  t.equal(standIn.received.length, calls + 1, 'only the second question reached Agent Studio; no forged approval did')
})

t.test("a tool that is not in the agent's approvableTools cannot be approved from a browser; denying it is fine", async (t) => {
  const { standIn, gateway, audit } = await setup(t, ['someOtherTool'])
  const history = await askThenDecide(gateway, 'u-deny', 'chat-deny-000001')
  const calls = standIn.received.length
  const refused = await send(t, gateway, 'u-deny', 'chat-deny-000001', history)
  t.equal(refused.status, 403)
  t.same(Object.keys(JSON.parse(refused.body)).sort(), ['error', 'message', 'requestId'])
  t.match(JSON.parse(refused.body), { error: 'tool_not_approvable', message: /"emptyCart" is not in this agent's approvableTools/ })
  t.equal(standIn.received.length, calls)
  t.match(audit.lines.at(-1), { action: 'tool_approval', outcome: 'refused', reason: 'tool_not_approvable', toolName: 'emptyCart', approved: true })

  const denied = await askThenDecide(gateway, 'u-deny', 'chat-deny-000002', (part) =>
    Object.assign(part, { state: 'output-denied', approval: { id: 'a', approved: false } })
  )
  const turn = await chatTurn({ gatewayUrl: gateway.url, user: 'u-deny', chatId: 'chat-deny-000002', messages: denied })
  t.equal(turn.status, 200)
  t.match(turn.message?.parts, [{ type: 'step-start' }, { type: 'text', text: /^Understood: emptyCart was not run\./ }])
})

t.test('approvals of the past in the history are not decisions of this request', async (t) => {
  const { gateway } = await setup(t)
  const history = await askThenDecide(gateway, 'u-hist', 'chat-hist-000001')
  const turn = await chatTurn({ gatewayUrl: gateway.url, user: 'u-hist', chatId: 'chat-hist-000001', messages: history })
  t.equal(turn.status, 200)
  const next = await chatTurn({
    gatewayUrl: gateway.url,
    user: 'u-hist',
    chatId: 'chat-hist-000001',
    messages: [...history, turn.message!, userTurn('m3', 'thanks')]
  })
  t.equal(next.status, 200, 'the chat goes on after an approval')
  t.same(next.errors, [])
})

t.test('sessions are checked first: no approval is looked at for an anonymous request', async (t) => {
  const { gateway } = await setup(t)
  const response = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: testClient(t),
    headers: { authorization: `Bearer ${await sessionToken(undefined)}` },
    body: { messages: [] }
  })
  t.equal(response.statusCode, 401)
  await response.body.dump()
})

t.test('a binding expires, and decisions are read from every shape a client sends', async (t) => {
  const { approvalService, approvalDecisions } = await import('../../src/approvals/approvals.js')
  const { memoryApprovalStore } = await import('../../src/approvals/approval-store.js')
  const { LiveAgents } = await import('../../src/config/live-agents.js')
  const { createMetrics } = await import('../../src/metrics.js')
  const { pino } = await import('pino')
  let clock = 1_000_000
  const audit = {
    events: [] as unknown[],
    write(event: unknown) {
      this.events.push(event)
    },
    async close() {}
  }
  const service = approvalService({
    store: memoryApprovalStore(),
    agents: new LiveAgents({ [AGENT_ID]: { cache: 'personal', approvableTools: ['emptyCart'] } }, undefined),
    secret: 'sk-alg-test',
    metrics: createMetrics(),
    audit,
    logger: pino({ level: 'silent' }),
    now: () => clock
  })
  const request = { id: 'req-1', user: { id: 'u1' }, summary: {} } as never
  service.watch(
    request,
    AGENT_ID,
    'chat-1'
  )(Buffer.from(`data: ${JSON.stringify({ type: 'data-tool-approval', data: { toolCallId: 'call_1', toolName: 'emptyCart', args: { cartId: 'c' } } })}\n\n`))
  await new Promise((resolve) => setImmediate(resolve))
  clock += 15 * 60_000 + 1
  await t.rejects(
    service.check(request, AGENT_ID, 'chat-1', [{ toolCallId: 'call_1', toolName: 'emptyCart', args: { cartId: 'c' }, hasArgs: true, approved: true }]),
    { code: 'APPROVAL_INVALID', message: /expired/ }
  )
  t.match(audit.events.at(-1), { action: 'tool_approval', outcome: 'refused', reason: 'approval_invalid:expired' })

  t.same(
    approvalDecisions([], [{ id: 'call_9', needsApproval: true, approved: true }]),
    [{ toolCallId: 'call_9', hasArgs: false, approved: true }],
    'AG-UI list form'
  )
  t.same(approvalDecisions([], { call_8: { approved: false } }), [{ toolCallId: 'call_8', hasArgs: false, approved: false }], 'keyed by tool call id')
  t.same(
    approvalDecisions(
      [
        { role: 'assistant', parts: [{ type: 'tool-emptyCart', toolCallId: 'call_7', state: 'approval-responded', approval: { approved: true } }] },
        { role: 'user', parts: [] }
      ],
      undefined
    ),
    [],
    'an approval in an older message is history, not a decision'
  )
})
