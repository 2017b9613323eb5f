import type { IncomingHttpHeaders } from 'node:http'

/**
 * Agent Studio's approved domains, as the stand-in models them (Algolia docs, Agent Studio
 * "Approved domains"; the per-agent list is administered with `/1/agents/{agentId}/allowed-domains`,
 * specs/agent-studio/paths/agents/allowedDomains.yml): when an agent's list is non-empty, a
 * completion whose `Origin` header (or, without one, its `Referer`) does not match an entry, or
 * that has neither, is refused with 403. An entry is an exact host (`shop.example.com`), a full
 * URL (`https://shop.example.com`, compared by origin) or a wildcard (`*.example.com`: any
 * subdomain, not the bare domain).
 */
export function approvedDomainRefusal(headers: IncomingHttpHeaders, approved: readonly string[] | undefined): string | undefined {
  if (approved === undefined || approved.length === 0) return undefined
  const claimed = claimedUrl(headers)
  if (claimed === undefined) return 'Origin not allowed: this agent only answers requests from its approved domains, and the request has no Origin or Referer'
  if (approved.some((entry) => matches(entry, claimed))) return undefined
  return `Origin not allowed: ${claimed.host} is not an approved domain of this agent`
}

function claimedUrl(headers: IncomingHttpHeaders): URL | undefined {
  for (const value of [headers.origin, headers.referer]) {
    if (typeof value !== 'string' || value === 'null') continue
    try {
      return new URL(value)
    } catch {
      continue
    }
  }
  return undefined
}

function matches(entry: string, claimed: URL): boolean {
  if (entry.includes('://')) {
    try {
      return new URL(entry).origin === claimed.origin
    } catch {
      return false
    }
  }
  const host = claimed.hostname.toLowerCase()
  const pattern = entry.toLowerCase()
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1
  return host === pattern || claimed.host.toLowerCase() === pattern
}
