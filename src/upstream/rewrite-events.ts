/**
 * AG-UI events name their thread (`RUN_STARTED`, `RUN_FINISHED`: `threadId`). Upstream that is
 * the caller's namespaced conversation id; the browser sent, and must see back, its own id
 * (issue 9: the browser's conversation id is never the upstream id, and never learns it).
 * Applied to whole events only (see event-boundary.ts), so an id is never split between two
 * chunks; a chunk without the id is passed on as it is (one search, no copy).
 */
export function replaceId(upstreamId: string, clientId: string): (events: Buffer) => Buffer {
  const quoted = JSON.stringify(upstreamId)
  const needle = Buffer.from(quoted)
  const replacement = JSON.stringify(clientId)
  return (events) => (events.indexOf(needle) === -1 ? events : Buffer.from(events.toString('utf8').replaceAll(quoted, replacement)))
}
