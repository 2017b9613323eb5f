import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

interface Teardown {
  teardown(fn: () => unknown): void
}

export type UpstreamHandler = (request: IncomingMessage, response: ServerResponse) => void

/**
 * An Agent Studio that misbehaves on purpose, on port 0: whatever `handle` does is what the
 * gateway gets (wrong headers, endless or stalled bodies). Returns the base URL to configure
 * as AGENT_STUDIO_URL and the paths it was asked for.
 */
export async function startHostileUpstream(t: Teardown, handle: UpstreamHandler): Promise<{ url: URL; paths: string[] }> {
  const paths: string[] = []
  const server = createServer((request, response) => {
    paths.push(`${request.method} ${request.url}`)
    handle(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/agent-studio`), paths }
}
