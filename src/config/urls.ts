import { isLoopbackAddress } from './addresses.js'

/**
 * An http(s) URL of a service the gateway calls, or a problem. `production` also requires
 * https, except on loopback.
 */
export function parseHttpUrl(value: string, name: string, problems: string[], production: boolean): URL | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`${name}: not a URL`)
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`${name}: must be an http(s) URL`)
    return undefined
  }
  // Credentials in the userinfo would be printed at start and never sent (requests use the
  // origin alone): refuse them rather than leak them. The message does not repeat them.
  if (url.username !== '' || url.password !== '') {
    problems.push(`${name}: must not carry credentials (user:password@); the gateway never sends them, and they would be logged`)
    return undefined
  }
  if (production && url.protocol !== 'https:' && !isLoopback(url.hostname)) {
    problems.push(`${name}: must use https under NODE_ENV=production`)
    return undefined
  }
  return url
}

/** A base URL that paths are appended to: no trailing slash, query or fragment. */
export function withoutTrailingSlash(url: URL): URL {
  const copy = new URL(url.href)
  copy.pathname = copy.pathname.replace(/\/+$/, '')
  copy.search = ''
  copy.hash = ''
  return copy
}

/** `localhost` or a loopback address (parsed: `127.0.0.1.example.com` is a name, not loopback). */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || isLoopbackAddress(hostname.replace(/^\[(.*)\]$/, '$1'))
}
