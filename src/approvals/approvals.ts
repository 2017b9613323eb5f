import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { LiveAgents } from '../config/live-agents.js'
import { ApprovalInvalid, RedisUnavailable, ToolNotApprovable } from '../errors.js'
import type { Metrics } from '../metrics.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { ApprovalStore, PendingApproval } from './approval-store.js'

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

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/**
 * The approval decisions a completion body makes: the tool parts of its LAST message when that is
 * the assistant's (the turn being answered: older messages are decisions already taken, resent as
 * history), and `toolApprovals` (AG-UI: `forwardedProps.toolApprovals`). One per tool call.
 */
export function approvalDecisions(messages: unknown, toolApprovals: unknown): ApprovalDecision[] {
  const decisions = new Map<string, ApprovalDecision>()
  const last = Array.isArray(messages) ? messages.at(-1) : undefined
  if (isObject(last) && last.role === 'assistant' && Array.isArray(last.parts)) {
    for (const part of last.parts) {
      if (!isObject(part) || typeof part.toolCallId !== 'string' || typeof part.type !== 'string') continue
      const toolName =
        part.type === 'dynamic-tool'
          ? typeof part.toolName === 'string'
            ? part.toolName
            : undefined
          : part.type.startsWith('tool-')
            ? part.type.slice(5)
            : undefined
      if (toolName === undefined) continue
      if (part.state === 'approval-responded') {
        decisions.set(part.toolCallId, {
          toolCallId: part.toolCallId,
          toolName,
          args: part.input,
          hasArgs: true,
          approved: isObject(part.approval) && part.approval.approved === true
        })
      } else if (part.state === 'output-denied') {
        decisions.set(part.toolCallId, { toolCallId: part.toolCallId, toolName, args: part.input, hasArgs: true, approved: false })
      }
    }
  }
  // AG-UI sends a list of `{ id, needsApproval, approved? }` (agent-studio-api.md "Newer facts").
  const entries = Array.isArray(toolApprovals)
    ? toolApprovals
        .filter((item): item is Record<string, unknown> => isObject(item) && typeof item.id === 'string')
        .map((item) => [item.id as string, item] as const)
    : isObject(toolApprovals)
      ? Object.entries(toolApprovals)
      : []
  for (const [toolCallId, value] of entries) {
    if (decisions.has(toolCallId)) continue
    const approved = value === true || (isObject(value) && (value.approved === true || value.status === 'approved'))
    decisions.set(toolCallId, { toolCallId, hasArgs: false, approved })
  }
  return [...decisions.values()]
}

type Refusal = 'not_approvable' | 'unbound' | 'replayed' | 'expired' | 'mismatch'

export function approvalService({ store, agents, secret, metrics, audit, logger, now = Date.now }: ApprovalOptions) {
  // Derived once: the binding key is the gateway's own, never the authentication key itself.
  const key = Buffer.from(hkdfSync('sha256', secret, '', 'agent-studio-gateway tool-approval binding v1', 32))
  const bind = (userId: string, conversationId: string, toolCallId: string, toolName: string, hash: string) =>
    createHmac('sha256', key)
      .update(JSON.stringify([userId, conversationId, toolCallId, toolName, hash]))
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
        const hash = argsHash(args)
        const record: PendingApproval = {
          toolName,
          argsHash: hash,
          binding: bind(request.user.id, conversationId, toolCallId, toolName, hash).toString('hex'),
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
    for (const decision of decisions) {
      if (!decision.approved) {
        // A denial acts on nothing: accepted without a binding, but it uses one up.
        await take(userId, decision.toolCallId)
        record(decision, decision.toolName, undefined)
        continue
      }
      if (decision.toolName !== undefined && !approvable.includes(decision.toolName)) {
        record(decision, decision.toolName, 'not_approvable')
        throw new ToolNotApprovable(`"${decision.toolName}" is not in this agent's approvableTools`)
      }
      const taken = await take(userId, decision.toolCallId)
      let refusal: Exclude<Refusal, 'not_approvable'> | undefined
      let toolName = decision.toolName
      if (taken.state === 'none') refusal = 'unbound'
      else if (taken.state === 'used') refusal = 'replayed'
      else {
        const pending = taken.record
        toolName ??= pending.toolName
        if (!approvable.includes(toolName)) {
          record(decision, toolName, 'not_approvable')
          throw new ToolNotApprovable(`"${toolName}" is not in this agent's approvableTools`)
        }
        const expected = Buffer.from(pending.binding, 'hex')
        const actual = bind(userId, conversationId, decision.toolCallId, toolName, decision.hasArgs ? argsHash(decision.args) : pending.argsHash)
        if (pending.expiresAt <= now()) refusal = 'expired'
        else if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) refusal = 'mismatch'
      }
      record(decision, toolName, refusal)
      if (refusal !== undefined) throw new ApprovalInvalid(REFUSAL_TEXT[refusal], { logRule: `approval_invalid:${refusal}` })
    }
  }

  return { watch, check }
}

const REFUSAL_TEXT: Record<Exclude<Refusal, 'not_approvable'>, string> = {
  unbound: 'no approval was asked for this tool call',
  replayed: 'this approval was already used',
  expired: 'the approval request has expired; ask again',
  mismatch: 'it answers a different call, conversation or arguments than the one asked'
}

export type ApprovalService = ReturnType<typeof approvalService>
