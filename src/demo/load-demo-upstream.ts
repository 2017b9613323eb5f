import { fileURLToPath } from 'node:url'
import type { GatewayConfig } from '../config/types.js'

/** The shape of src/demo/demo-upstream.ts, declared here so the gateway build never references the stand-in. */
export type StartDemoUpstream = (config: GatewayConfig) => Promise<{ config: GatewayConfig; standIn: { close(): Promise<void> } }>

/**
 * The demo's Agent Studio stand-in is a test double: it is not part of the gateway build (dist/) or
 * the production image (issue 13). `npm start` also builds it, into dist-standin/ beside dist/; run
 * from source (tsx, as the tests do) the module is imported as it is. The specifier is computed so
 * that tsc does not pull the stand-in into the gateway build. Only demo mode, which production
 * refuses, calls this.
 */
export async function loadDemoUpstream(): Promise<StartDemoUpstream> {
  const fromSource = import.meta.url.endsWith('.ts')
  const module = fromSource ? new URL('./demo-upstream.ts', import.meta.url) : new URL('../../dist-standin/demo/demo-upstream.js', import.meta.url)
  try {
    return ((await import(module.href)) as { startDemoUpstream: StartDemoUpstream }).startDemoUpstream
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error
    throw new Error(`the demo needs the Agent Studio stand-in, which is built apart from the gateway: ${fileURLToPath(module)} is missing; run \`npm start\` (it builds both) or \`npm run build:standin\``, { cause: error })
  }
}
