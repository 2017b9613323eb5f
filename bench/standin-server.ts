// Benchmark helper: the Agent Studio stand-in in its own process. Prints its URL, then one JSON
// line per stream the client closed early, with an absolute timestamp (ms since the epoch).
import { createStandIn } from '../standin/src/standin.js'

const standIn = createStandIn({
  appId: process.env.BENCH_APP_ID!,
  apiKeys: new Map([[process.env.BENCH_API_KEY!, ['search', 'logs']]]),
  authenticationKeys: new Map([[process.env.BENCH_KEY_ID!, process.env.BENCH_SECRET_KEY!]]),
  paceMs: Number(process.env.BENCH_PACE_MS ?? 0)
})
standIn.events.on('stream-closed', (event) => {
  if (event.early) process.stdout.write(`${JSON.stringify({ closedAt: performance.timeOrigin + event.at })}\n`)
})
const url = await standIn.listen()
process.stdout.write(`${JSON.stringify({ url: url.href })}\n`)
process.on('SIGTERM', () => void standIn.close().then(() => process.exit(0)))
