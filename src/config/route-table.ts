/**
 * Every route the browser may call, declared once (issue 25). Registration
 * (src/routes/agent-studio/index.ts), the limits' route groups (src/config/limits.ts), the
 * upstream budget's classes (src/limits/budget-classes.ts), the key audit's ACL list
 * (src/keys/key-audit.ts) and the route table in docs/frontend.md (scripts/route-table.ts,
 * checked by a test) are all derived from this file. Adding a route is an entry here, its
 * handler in src/routes/agent-studio/, and its test.
 *
 * Pure data: it imports nothing, so every layer may read it.
 */

/** Priorities of the application's Agent Studio budget: see src/limits/budget-classes.ts. */
export type BudgetClass = 'chat' | 'history' | 'background'

interface RouteGroupSpec {
  /** The policy file's `limits.routes.<group>` when it says nothing. */
  readonly defaults: { readonly max: number; readonly windowSeconds: number }
  readonly budgetClass: BudgetClass
  /**
   * Makes Agent Studio run an LLM: the token budgets (limits.tokenBudget) apply to every route of
   * the group, whichever it is, so no route bypasses them (issue 24).
   */
  readonly spendsTokens: boolean
}

/**
 * The limits' route groups: each has its own per-user window (`limits.routes.<group>`) and its
 * place in the upstream budget's priorities.
 */
export const ROUTE_GROUPS = {
  completions: { defaults: { max: 60, windowSeconds: 60 }, budgetClass: 'chat', spendsTokens: true },
  tasks: { defaults: { max: 60, windowSeconds: 60 }, budgetClass: 'chat', spendsTokens: true },
  conversations: { defaults: { max: 120, windowSeconds: 60 }, budgetClass: 'history', spendsTokens: false },
  feedback: { defaults: { max: 60, windowSeconds: 60 }, budgetClass: 'history', spendsTokens: false },
  userData: { defaults: { max: 20, windowSeconds: 60 }, budgetClass: 'background', spendsTokens: false },
  // Calls no upstream (POST /search-key): never spends the budget.
  searchKey: { defaults: { max: 60, windowSeconds: 60 }, budgetClass: 'background', spendsTokens: false },
  // An LLM call billed to the application, so a daily allowance per user; part of chatting.
  compact: { defaults: { max: 5, windowSeconds: 86_400 }, budgetClass: 'chat', spendsTokens: true }
} as const satisfies Record<string, RouteGroupSpec>

export type RouteGroup = keyof typeof ROUTE_GROUPS

/** What the audit trail calls a route's requests: each one is a privileged action (issue 24). */
export const ROUTE_AUDIT_ACTIONS = ['erasure', 'export', 'conversation_delete', 'feedback_create', 'feedback_change'] as const
export type RouteAuditAction = (typeof ROUTE_AUDIT_ACTIONS)[number]

/** The switch a route exists under: off, it is not registered and answers 404 like any unknown path. */
export type RouteSwitch = 'always' | 'ENABLE_CONVERSATIONS' | 'ENABLE_FEEDBACK' | 'ENABLE_USER_DATA' | 'ENABLE_SEARCH_KEY' | 'COMPACT_MODEL'

export interface RouteSpec {
  /** Names the route's handler (src/routes/agent-studio/index.ts: one per id, checked by the compiler). */
  readonly id: string
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  readonly path: string
  /** What it calls upstream (Algolia's spec), or why nothing. */
  readonly upstream: string
  /** The limits' route group it counts in; null: only the per-user limit (it calls nothing upstream). */
  readonly group: RouteGroup | null
  /** The ACL ALGOLIA_API_KEY needs for it (the spec's `x-acl`); null: it does not use that key. */
  readonly acl: 'search' | 'logs' | null
  readonly enabledBy: RouteSwitch
  /** Path parameters checked before anything else is done: the agent allow-list, the id patterns. */
  readonly params: readonly ('agentId' | 'conversationId' | 'chatId')[]
  /** `json`: JSON only, schema-checked, rebuilt field by field; `ignored`: any body, up to 1 KiB, unread. */
  readonly body: 'json' | 'none' | 'ignored'
  /** What the query may carry (everything else is refused or dropped, see the handler). */
  readonly query: string
  /** Holds a stream slot until the response closes: always, when the query asks for a stream, or never. */
  readonly stream: 'always' | 'when-asked' | 'never'
  /** Spends the upstream budget and respects a hold-off. */
  readonly callsUpstream: boolean
  /**
   * Admitted (limits spent) after the body is validated rather than before it is read. Only for
   * a small daily allowance (compact), so a malformed request does not use up the user's day;
   * everywhere else limits come first, so a flood is refused before its bodies are parsed.
   */
  readonly admitAfterValidation?: true
  /** Every request is a privileged action, written to the audit trail with its outcome (src/audit/). */
  readonly audit?: RouteAuditAction
}

export const ROUTES = [
  {
    id: 'completion',
    method: 'POST',
    path: '/agent-studio/1/agents/:agentId/completions',
    upstream: 'POST /1/agents/{agentId}/completions',
    group: 'completions',
    acl: 'search',
    enabledBy: 'always',
    params: ['agentId'],
    body: 'json',
    query: 'compatibilityMode, stream, cache, memory',
    stream: 'always',
    callsUpstream: true
  },
  {
    id: 'resume',
    method: 'GET',
    path: '/agent-studio/1/agents/:agentId/completions/:chatId/stream',
    upstream: 'none: 204, Agent Studio has no resumable streams',
    group: null,
    acl: null,
    enabledBy: 'always',
    params: ['agentId', 'chatId'],
    body: 'none',
    query: 'none',
    stream: 'never',
    callsUpstream: false
  },
  {
    id: 'task',
    method: 'POST',
    path: '/agent-studio/1/agents/:agentId/tasks',
    upstream: 'POST /1/agents/{agentId}/tasks',
    group: 'tasks',
    acl: 'search',
    enabledBy: 'always',
    params: ['agentId'],
    body: 'json',
    query: 'stream, cache',
    stream: 'when-asked',
    callsUpstream: true
  },
  {
    id: 'conversationList',
    method: 'GET',
    path: '/agent-studio/1/agents/:agentId/conversations',
    upstream: 'GET /1/agents/{agentId}/conversations',
    group: 'conversations',
    acl: 'logs',
    enabledBy: 'ENABLE_CONVERSATIONS',
    params: ['agentId'],
    body: 'none',
    query: 'page, limit, startDate, endDate, includeFeedback, feedbackVote',
    stream: 'never',
    callsUpstream: true
  },
  {
    id: 'conversationRead',
    method: 'GET',
    path: '/agent-studio/1/agents/:agentId/conversations/:conversationId',
    upstream: 'GET /1/agents/{agentId}/conversations/{namespaced id}',
    group: 'conversations',
    acl: 'logs',
    enabledBy: 'ENABLE_CONVERSATIONS',
    params: ['agentId', 'conversationId'],
    body: 'none',
    query: 'includeFeedback',
    stream: 'never',
    callsUpstream: true
  },
  {
    id: 'conversationDelete',
    method: 'DELETE',
    path: '/agent-studio/1/agents/:agentId/conversations/:conversationId',
    upstream: 'DELETE /1/agents/{agentId}/conversations/{namespaced id}',
    group: 'conversations',
    acl: 'logs',
    enabledBy: 'ENABLE_CONVERSATIONS',
    params: ['agentId', 'conversationId'],
    body: 'none',
    query: 'none',
    stream: 'never',
    callsUpstream: true,
    audit: 'conversation_delete'
  },
  {
    id: 'feedback',
    method: 'POST',
    path: '/agent-studio/1/feedback',
    upstream: 'POST /1/feedback',
    group: 'feedback',
    acl: 'search',
    enabledBy: 'ENABLE_FEEDBACK',
    params: [],
    body: 'json',
    query: 'none',
    stream: 'never',
    callsUpstream: true,
    audit: 'feedback_create'
  },
  {
    id: 'feedbackChange',
    method: 'PATCH',
    path: '/agent-studio/1/feedback',
    upstream: 'PATCH /1/feedback',
    group: 'feedback',
    acl: 'search',
    enabledBy: 'ENABLE_FEEDBACK',
    params: [],
    body: 'json',
    query: 'none',
    stream: 'never',
    callsUpstream: true,
    audit: 'feedback_change'
  },
  {
    id: 'userDataExport',
    method: 'GET',
    path: '/agent-studio/1/user-data/me',
    upstream: 'GET /1/user-data/{userId}',
    group: 'userData',
    acl: 'logs',
    enabledBy: 'ENABLE_USER_DATA',
    params: [],
    body: 'none',
    query: 'none',
    stream: 'never',
    callsUpstream: true,
    audit: 'export'
  },
  {
    id: 'userDataErase',
    method: 'DELETE',
    path: '/agent-studio/1/user-data/me',
    upstream: 'a paced job: DELETE /1/agents/{agentId}/conversations/{id} each, then DELETE /1/user-data/{userId}',
    group: 'userData',
    acl: 'logs',
    enabledBy: 'ENABLE_USER_DATA',
    params: [],
    body: 'none',
    query: 'none',
    stream: 'never',
    callsUpstream: true,
    audit: 'erasure'
  },
  {
    id: 'erasureStatus',
    method: 'GET',
    path: '/agent-studio/1/user-data/me/erasure',
    upstream: "none: the job's progress, from the gateway's store",
    group: null,
    acl: null,
    enabledBy: 'ENABLE_USER_DATA',
    params: [],
    body: 'none',
    query: 'none',
    stream: 'never',
    callsUpstream: false
  },
  {
    id: 'searchKey',
    method: 'POST',
    path: '/search-key',
    upstream: 'none: a Secured API Key derived from ALGOLIA_SEARCH_KEY',
    group: 'searchKey',
    acl: null,
    enabledBy: 'ENABLE_SEARCH_KEY',
    params: [],
    body: 'ignored',
    query: 'none',
    stream: 'never',
    callsUpstream: false
  },
  {
    id: 'compact',
    method: 'POST',
    path: '/agent-studio/1/context/compact',
    upstream: 'POST /1/unstable/context/compact',
    group: 'compact',
    acl: 'search',
    enabledBy: 'COMPACT_MODEL',
    params: [],
    body: 'json',
    query: 'none',
    stream: 'never',
    callsUpstream: true,
    admitAfterValidation: true
  },
  {
    id: 'usageMe',
    method: 'GET',
    path: '/agent-studio/usage/me',
    upstream: "none: the caller's own token usage and budgets, from the gateway's store",
    group: null,
    acl: null,
    enabledBy: 'always',
    params: [],
    body: 'none',
    query: 'none',
    stream: 'never',
    callsUpstream: false
  }
] as const satisfies readonly RouteSpec[]

export type RouteId = (typeof ROUTES)[number]['id']
