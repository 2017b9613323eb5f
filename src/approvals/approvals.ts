import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { LiveAgents } from '../config/live-agents.js'
import { ApprovalInvalid, InvalidRequest, RedisUnavailable, ToolNotApprovable } from '../errors.js'
import type { Metrics } from '../metrics.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { ApprovalStore, PendingApproval } from './approval-store.js'
import { MAX_JSON_DEPTH } from '../policy/json-depth.js'

/**
 * Issue 24: tool approvals a browser cannot forge. Agent Studio asks for an approval in the stream
 * (`data-tool-approval`: toolCallId, toolName, args, argsHash?, conversationId?; agent-studio-api.md
 * "Stream parts"), and the browser answers in its next request: `useChat` (ai 6/7) resends the
 * assistant message with the tool part in `approval-responded` (`approval.approved`) or
 * `output-denied`; other clients send `toolApprovals` keyed by tool call id.
 *
 * The binding is kept server-side, not echoed: when the request passes, the gateway stores, per
 * user and tool call, an HMAC of (user, conversation, tool call id, tool name, argsHash) with its
 * own key, for APPROVAL_TTL_MS. An approval is accepted only if that binding exists, matches what
 * the request approves (same user, conversation, call, tool and arguments), has not expired, and
 * was not used: it is consumed by the first request that answers it. Why server-side: stock
 * `useChat` and InstantSearch send back exactly what they already send (nothing to carry, nothing
 * a page script can read and reuse); "once" needs server state anyway; and the HMAC means a
 * record planted in the store without the gateway's key approves nothing.
 *
 * Deny by default: only the agent's `approvableTools` (policy file) may be approved from a browser
 * (`403 tool_not_approvable` for any other, before any binding is looked at). Denials need no
 * binding (denying never makes a tool act) but consume one, so a denied call cannot be approved
 * later. Every decision is audited and counted.
 */
export const APPROVAL_TTL_MS = 15 * 60_000

export interface ApprovalDecision {
  readonly toolCallId: string
  /** Absent for a `toolApprovals` entry: the binding knows it. */
  readonly toolName?: string
  /** The arguments the approved part carries (absent for a `toolApprovals` entry). */
  readonly args?: unknown
  readonly hasArgs: boolean
  readonly approved: boolean
}

export interface ApprovalOptions {
  readonly store: ApprovalStore
  readonly agents: LiveAgents
  /** The gateway's own secret the binding key is derived from (ALGOLIA_SECRET_KEY). */
  readonly secret: string
  readonly metrics: Metrics
  readonly audit: AuditLog
  readonly logger: Logger
  readonly now?: () => number
}

/** sha256 of the arguments as canonical JSON (keys sorted at every depth): the same call hashes the same. */
export function argsHash(args: unknown): string {
  return createHash('sha256').update(canonical(args)).digest('hex')
}

/**
 * Arguments nested deeper than a request body may be (src/policy/json-depth.ts) are refused, not
 * hashed: they come from upstream too (a stream's `data-tool-approval`), and recursing into
 * thousands of levels overflowed the stack and took the process down (review of issue 24).
 */
function canonical(value: unknown, depth = 0): string {
  if (depth > MAX_JSON_DEPTH) throw new RangeError(`tool arguments nested deeper than ${MAX_JSON_DEPTH} levels`)
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item, depth + 1)).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key], depth + 1)}`)
      .join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/** More decisions than any turn has tool calls is a malformed (or hostile) body: each costs a store round trip and an audit event. */
export const MAX_DECISIONS = 32

/**
 * The approval decisions a completion body makes, read as generously as the most generous reader
 * downstream (the AI SDK's own `collectToolApprovals`, which Agent Studio may share): a decision
 * is any tool part carrying an `approval` whose `approved` is set, whatever the part's state, in
 * any assistant message after the last user message (the turn being answered: older messages are
 * decisions already taken), plus every entry of `toolApprovals` (AG-UI: `forwardedProps`).
 * Approved means anything but a literal `false`; what a reader could take either way is refused
 * (400): a non-boolean `approved`, two parts for one tool call, two decisions sharing an approval
 * id, a dynamic tool without a name, more than MAX_DECISIONS. Review of issue 24: a decision the
 * gateway did not count (a later message, another state, `"true"`, a duplicate) was one Agent
 * Studio could still act on.
 */
export function approvalDecisions(messages: unknown, toolApprovals: unknown): ApprovalDecision[] {
  const decisions = new Map<string, ApprovalDecision>()
  const add = (decision: ApprovalDecision) => {
    if (decisions.has(decision.toolCallId)) throw new InvalidRequest(`tool call ${JSON.stringify(decision.toolCallId).slice(0, 80)} is answered twice`)
    if (decisions.size >= MAX_DECISIONS) throw new InvalidRequest(`more than ${MAX_DECISIONS} tool approvals in one request`)
    decisions.set(decision.toolCallId, decision)
  }
  const list = Array.isArray(messages) ? messages : []
  const lastUser = list.findLastIndex((message) => isObject(message) && message.role === 'user')
  const approvalIds = new Set<string>()
  for (const message of list.slice(lastUser + 1)) {
    if (!isObject(message) || message.role !== 'assistant' || !Array.isArray(message.parts)) continue
    const callIds = new Set<string>()
    for (const part of message.parts) {
      if (!isObject(part) || typeof part.type !== 'string') continue
      const isTool = part.type === 'dynamic-tool' || part.type.startsWith('tool-')
      if (!isTool || typeof part.toolCallId !== 'string') continue
      // One part per call: a later part with the same id could carry other arguments (or another answer).
      if (callIds.has(part.toolCallId)) throw new InvalidRequest(`tool call ${JSON.stringify(part.toolCallId).slice(0, 80)} appears twice in one message`)
      callIds.add(part.toolCallId)
      // Already ran (its output is in the history): an answer acted on in an earlier step of this turn.
      if (part.state === 'output-available' || part.state === 'output-error') continue
      const approval = isObject(part.approval) ? part.approval : undefined
      const answered =
        (approval !== undefined && approval.approved !== undefined && approval.approved !== null) ||
        part.state === 'approval-responded' ||
        part.state === 'output-denied'
      if (!answered) continue
      const toolName = part.type === 'dynamic-tool' ? part.toolName : part.type.slice(5)
      if (typeof toolName !== 'string' || toolName.length === 0) throw new InvalidRequest('a dynamic tool part needs its toolName')
      if (approval !== undefined && typeof approval.id === 'string') {
        if (approvalIds.has(approval.id)) throw new InvalidRequest('two tool parts answer the same approval id')
        approvalIds.add(approval.id)
      }
      const approved = part.state === 'output-denied' ? false : approvedValue(approval?.approved)
      add({ toolCallId: part.toolCallId, toolName, args: part.input, hasArgs: true, approved })
    }
  }
  // AG-UI sends a list of `{ id, needsApproval, approved? }` (agent-studio-api.md "Newer facts"); others an object by call id.
  const entries: Array<readonly [string, unknown]> = Array.isArray(toolApprovals)
    ? toolApprovals.map((item) => {
        if (!isObject(item) || typeof item.id !== 'string') throw new InvalidRequest('each toolApprovals entry needs an id')
        return [item.id, item] as const
      })
    : isObject(toolApprovals)
      ? Object.entries(toolApprovals)
      : []
  for (const [toolCallId, value] of entries) {
    const approved =
      typeof value === 'boolean'
        ? value
        : isObject(value)
          ? approvedValue(value.approved ?? (value.status === 'approved' ? true : value.status === 'denied' || value.status === 'rejected' ? false : undefined))
          : approvedValue(value)
    add({ toolCallId, hasArgs: false, approved })
  }
  return [...decisions.values()]
}

/** An approval's answer: true or false, nothing a reader could take for either. */
function approvedValue(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidRequest('a tool approval\'s "approved" must be true or false')
  return value
}

type Refusal = 'not_approvable' | 'unbound' | 'replayed' | 'expired' | 'mismatch' | 'request_refused'

export function approvalService({ store, agents, secret, metrics, audit, logger, now = Date.now }: ApprovalOptions) {
  // Derived once: the binding key is the gateway's own, never the authentication key itself.
  const key = Buffer.from(hkdfSync('sha256', secret, '', 'agent-studio-gateway tool-approval binding v1', 32))
  // The agent is bound too: a binding issued for one agent's call approves nothing on another's.
  const bind = (userId: string, agentId: string, conversationId: string, toolCallId: string, toolName: string, hash: string) =>
    createHmac('sha256', key)
      .update(JSON.stringify([userId, agentId, conversationId, toolCallId, toolName, hash]))
      .digest()

  /** Reads the stream's approval requests as they pass (whole events), and binds each one. */
  function watch(request: FastifyRequest, agentId: string, conversationId: string): (events: Buffer) => void {
    return (events) => {
      if (events.indexOf('data-tool-approval') === -1) return
      for (const line of events.toString('utf8').split('\n')) {
        if (!line.startsWith('data:') || !line.includes('data-tool-approval')) continue
        let chunk: unknown
        try {
          chunk = JSON.parse(line.slice(5).trim())
        } catch {
          continue
        }
        if (!isObject(chunk) || chunk.type !== 'data-tool-approval' || !isObject(chunk.data)) continue
        const { toolCallId, toolName, args } = chunk.data
        if (typeof toolCallId !== 'string' || typeof toolName !== 'string') continue
        // Only what may be approved is bound: anything else is refused whatever the browser sends.
        if (!agents.settingsFor(agentId).approvableTools.includes(toolName)) continue
        let hash: string
        try {
          hash = argsHash(args)
        } catch {
          continue // too deeply nested to hash: no binding, so the browser's approval of it is refused
        }
        const record: PendingApproval = {
          toolName,
          argsHash: hash,
          binding: bind(request.user.id, agentId, conversationId, toolCallId, toolName, hash).toString('hex'),
          expiresAt: now() + APPROVAL_TTL_MS
        }
        store.issue(request.user.id, toolCallId, record, APPROVAL_TTL_MS).catch((error: unknown) => {
          logger.warn({ err: error, reqId: request.id }, "could not store a tool approval binding; the browser's approval of it will be refused")
        })
      }
    }
  }

  /** The store could not answer: an approval that cannot be verified is not accepted (fail closed: 503). */
  async function take(userId: string, toolCallId: string) {
    try {
      return await store.take(userId, toolCallId)
    } catch (error) {
      throw new RedisUnavailable({ cause: error, retryAfterSeconds: 5 })
    }
  }

  /** Every decision of the request, checked and consumed; throws on the first refused approval (nothing reaches Agent Studio). */
  async function check(request: FastifyRequest, agentId: string, conversationId: string, decisions: readonly ApprovalDecision[]): Promise<void> {
    const userId = request.user.id
    const approvable = agents.settingsFor(agentId).approvableTools
    const record = (decision: ApprovalDecision, toolName: string | undefined, refusal: Refusal | undefined) => {
      metrics.toolApprovals.inc({ agent: agentId, outcome: refusal ?? 'accepted' })
      audit.write({
        action: 'tool_approval',
        outcome: refusal === undefined ? 'succeeded' : 'refused',
        requestId: request.id,
        userId,
        agentId,
        ...(conversationId === '' ? {} : { conversationId }),
        toolCallId: decision.toolCallId,
        ...(toolName === undefined ? {} : { toolName }),
        approved: decision.approved,
        ...(refusal === undefined ? {} : { reason: refusal === 'not_approvable' ? 'tool_not_approvable' : `approval_invalid:${refusal}` })
      })
    }
    request.summary.toolApprovals = decisions.length
    // Nothing is consumed before every approval is known to be for an approvable tool.
    for (const decision of decisions) {
      if (decision.approved && decision.toolName !== undefined && !approvable.includes(decision.toolName)) {
        record(decision, decision.toolName, 'not_approvable')
        throw new ToolNotApprovable(`"${decision.toolName}" is not in this agent's approvableTools`)
      }
    }
    // Then every binding is taken (once: a denial uses one up too, so a denied call cannot be
    // approved later) and judged; the request goes on only if every approval holds.
    const judged: Array<{ decision: ApprovalDecision; toolName: string | undefined; refusal: Refusal | undefined }> = []
    for (const decision of decisions) {
      const taken = await take(userId, decision.toolCallId)
      if (!decision.approved) {
        // A denial acts on nothing: accepted without a binding.
        judged.push({ decision, toolName: decision.toolName, refusal: undefined })
        continue
      }
      let refusal: Refusal | undefined
      let toolName = decision.toolName
      if (taken.state === 'none') refusal = 'unbound'
      else if (taken.state === 'used') refusal = 'replayed'
      else {
        const pending = taken.record
        toolName ??= pending.toolName
        let hash: string | undefined = pending.argsHash
        if (decision.hasArgs) {
          try {
            hash = argsHash(decision.args)
          } catch {
            hash = undefined
          }
        }
        const expected = Buffer.from(pending.binding, 'hex')
        const actual = hash === undefined ? Buffer.alloc(0) : bind(userId, agentId, conversationId, decision.toolCallId, toolName, hash)
        if (!approvable.includes(toolName)) refusal = 'not_approvable'
        else if (pending.expiresAt <= now()) refusal = 'expired'
        else if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) refusal = 'mismatch'
      }
      judged.push({ decision, toolName, refusal })
    }
    const first = judged.find((entry) => entry.refusal !== undefined)
    // One event per decision, each with the outcome the request had: a denial in a refused request was not carried out either.
    for (const entry of judged) record(entry.decision, entry.toolName, entry.refusal ?? (first === undefined ? undefined : 'request_refused'))
    if (first === undefined) return
    if (first.refusal === 'not_approvable') throw new ToolNotApprovable(`"${first.toolName}" is not in this agent's approvableTools`)
    throw new ApprovalInvalid(REFUSAL_TEXT[first.refusal as Exclude<Refusal, 'not_approvable' | 'request_refused'>], {
      logRule: `approval_invalid:${first.refusal}`
    })
  }

  return { watch, check }
}

const REFUSAL_TEXT: Record<Exclude<Refusal, 'not_approvable' | 'request_refused'>, string> = {
  unbound: 'no approval was asked for this tool call',
  replayed: 'this approval was already used',
  expired: 'the approval request has expired; ask again',
  mismatch: 'it answers a different call, conversation or arguments than the one asked'
}

export type ApprovalService = ReturnType<typeof approvalService>
