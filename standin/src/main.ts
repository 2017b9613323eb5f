import { loadStandInConfig } from './config.js'
import { createStandIn } from './standin.js'

/** The stand-in as a program of its own: `node standin/dist/main.js` (compose demo profile, image check). */
const config = loadStandInConfig()
const standIn = createStandIn({
  appId: config.appId,
  apiKeys: new Map<string, string[]>([
    [config.apiKey, ['search', 'logs']],
    ...(config.searchKey === undefined ? [] : [[config.searchKey, ['search']] as [string, string[]]])
  ]),
  ...(config.searchKey === undefined
    ? {}
    : { keyDetails: new Map([[config.searchKey, { maxQueriesPerIPPerHour: 1000, referers: ['http://localhost:8080/*'] }]]) }),
  authenticationKeys: new Map([[config.keyId, config.secretKey]]),
  ...(config.agents === undefined ? {} : { agents: config.agents }),
  paceMs: config.paceMs,
  logger: true
})
await standIn.app.listen({ host: config.host, port: config.port })
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void standIn.close().then(() => process.exit(0)))
