import t from 'tap'
import { COMPATIBILITY_MODES as GATEWAY_MODES } from '../../src/config/settings.js'
import { COMPATIBILITY_MODES as STANDIN_MODES } from '../../standin/src/compatibility-modes.js'

// The stand-in (standin/) models Agent Studio and imports nothing from the gateway, so the
// few facts both must hold are kept twice and compared here.
t.test('the gateway offers exactly the compatibility modes the stand-in (Agent Studio) accepts', async (t) => {
  t.same([...GATEWAY_MODES].sort(), [...STANDIN_MODES].sort())
})
