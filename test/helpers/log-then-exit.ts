// A process that logs through the gateway's own logger (lines written in batches) and then ends
// the way argv[2] says: `exit` (process.exit), `throw` (an uncaught error), or `idle` (stays up:
// its lines must arrive within the flush interval all the same).
import { createLogger } from '../../src/logging/logger.js'

const logger = createLogger({ level: 'info' })
for (let i = 0; i < 3; i++) logger.info({ n: i }, 'line before the end')
const how = process.argv[2]
if (how === 'exit') process.exit(3)
if (how === 'throw') throw new Error('fatal on purpose')
setTimeout(() => undefined, 60_000)
