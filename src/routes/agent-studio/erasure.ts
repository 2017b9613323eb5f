import type { GatewayError } from '../../errors.js'
import type { Upstream } from '../../upstream/forward.js'
import { isCredentialOrBudgetError } from '../../upstream/upstream-errors.js'

/**
 * A real erasure of the caller's data. Agent Studio's `DELETE /1/user-data/{userToken}` deletes
 * messages only ("Does not delete conversations": userData.yml in Algolia's spec), and the
 * conversations keep their titles, which quote the first user message. So the gateway also
 * lists the caller's conversations on every allowed agent (scoped by the caller's user token,
 * so every one listed is theirs: namespaced or created before the gateway) and deletes each.
 * Memories have no public delete endpoint (README, "Erasure").
 *
 * Safe to repeat: a conversation already gone (404), or no messages left to delete (404), is
 * not a failure, and a retry lists what is left. A partial failure reports what was done, so the caller can retry to finish.
 */

export interface ErasureReport {
  conversationsDeleted: number
  messagesDeleted: boolean
  /** What could not be done, for the log and the 502 message (ids and statuses, no content). */
  readonly failures: string[]
  /** Agent Studio's budget (429) or the gateway's credentials (401/403) stopped it: answered as such, not as a 502. */
  stoppedBy?: GatewayError
}

export interface ErasureDependencies {
  readonly upstream: Upstream
  readonly agentIds: readonly string[]
  readonly userId: string
  /** The upstream headers for the caller (credentials.headersFor), with or without the user token, for a call about `agentId` (none: the user's data). */
  readonly headersFor: (userToken: boolean, agentId: string | undefined) => Promise<Record<string, string>>
}

/** Upstream's own id alphabet: an id from an answer goes into a path only if it cannot become another path. */
const UPSTREAM_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/
const PAGE_SIZE = 100
/** 100 pages of 100: beyond this an erasure reports itself incomplete rather than run for ever. */
const MAX_PAGES = 100

export async function eraseUserData(deps: ErasureDependencies): Promise<ErasureReport> {
  const { upstream } = deps
  const report: ErasureReport = { conversationsDeleted: 0, messagesDeleted: false, failures: [] }

  for (const agentId of deps.agentIds) {
    let ids: string[]
    try {
      ids = await listConversationIds(upstream, agentId, await deps.headersFor(true, agentId))
    } catch (error) {
      if (isCredentialOrBudgetError(error)) return stop(report, error)
      report.failures.push(`listing on agent ${agentId}: ${(error as Error).message}`)
      continue
    }
    for (const id of ids) {
      try {
        const answer = await upstream.request({ method: 'DELETE', path: `/1/agents/${agentId}/conversations/${id}`, headers: await deps.headersFor(false, agentId) })
        if (answer.statusCode >= 200 && answer.statusCode < 300) report.conversationsDeleted++
        else if (answer.statusCode !== 404) report.failures.push(`conversation ${id} on agent ${agentId}: HTTP ${answer.statusCode}`)
      } catch (error) {
        if (isCredentialOrBudgetError(error)) return stop(report, error)
        report.failures.push(`conversation ${id} on agent ${agentId}: ${(error as Error).message}`)
      }
    }
  }

  try {
    const answer = await upstream.request({ method: 'DELETE', path: `/1/user-data/${encodeURIComponent(deps.userId)}`, headers: await deps.headersFor(true, undefined) })
    // 404: no messages are left for this user token (the conversations deleted above took them,
    // or a previous erasure did): the goal is reached. Counted as a failure, it made every
    // erasure of a user with nothing left fail, retries included (issue 19).
    if ((answer.statusCode >= 200 && answer.statusCode < 300) || answer.statusCode === 404) report.messagesDeleted = true
    else report.failures.push(`messages: HTTP ${answer.statusCode}`)
  } catch (error) {
    if (isCredentialOrBudgetError(error)) return stop(report, error)
    report.failures.push(`messages: ${(error as Error).message}`)
  }
  return report
}

function stop(report: ErasureReport, error: GatewayError): ErasureReport {
  report.stoppedBy = error
  report.failures.push(error.message)
  return report
}

async function listConversationIds(upstream: Upstream, agentId: string, headers: Record<string, string>): Promise<string[]> {
  const ids: string[] = []
  for (let page = 1; page <= MAX_PAGES; page++) {
    const answer = await upstream.request({ method: 'GET', path: `/1/agents/${agentId}/conversations?page=${page}&limit=${PAGE_SIZE}`, headers })
    if (answer.statusCode !== 200) throw new Error(`HTTP ${answer.statusCode}`)
    const body = answer.body as { data?: unknown; pagination?: { totalPages?: unknown } } | undefined
    const data = Array.isArray(body?.data) ? body.data : []
    for (const item of data) {
      const id = (item as { id?: unknown } | null)?.id
      if (typeof id !== 'string' || !UPSTREAM_ID.test(id)) throw new Error('the list holds an id that is not a plain conversation id')
      ids.push(id)
    }
    const totalPages = typeof body?.pagination?.totalPages === 'number' ? body.pagination.totalPages : page
    if (data.length === 0 || page >= totalPages) return ids
  }
  throw new Error(`more than ${MAX_PAGES * PAGE_SIZE} conversations`)
}
