// Issue 13: the per-IP budget keyed on the full IPv6 address, so one client (who owns a whole
// /64) had 2^64 budgets. IPv6 addresses now count by their /64 prefix.
import t from 'tap'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { limitsFile } from '../helpers/limits.js'
import { clientAddressKey } from '../../src/limits/client-address.js'

t.test('an IPv6 address counts by its /64; IPv4 and IPv4-mapped addresses by the address', async (t) => {
  const table: Array<[string, string]> = [
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:0000:0000:0000:0009', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['203.0.113.7', '203.0.113.7'],
    ['not-an-address', 'not-an-address']
  ]
  for (const [address, key] of table) t.equal(clientAddressKey(address), key, address)
})

t.test('two addresses in one /64 share a failure budget; the next /64 has its own', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, {
    listen: false,
    env: { MAX_EVENT_LOOP_DELAY_MS: '0', GATEWAY_CONFIG_FILE: limitsFile({ ip: { max: 2, windowSeconds: 60 } }) }
  })
  const anonymous = (remoteAddress: string) =>
    gateway.app.inject({
      method: 'POST',
      url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`,
      headers: { 'content-type': 'application/json' },
      payload: completionBody(),
      remoteAddress
    })
  t.equal((await anonymous('2001:db8:1:2::1')).statusCode, 401)
  t.equal((await anonymous('2001:db8:1:2:ffff::9')).statusCode, 401)
  t.equal((await anonymous('2001:db8:1:2:1234:5678:9abc:def0')).statusCode, 429, 'a third address of the same /64 is over the shared budget')
  t.equal((await anonymous('2001:db8:1:3::1')).statusCode, 401, 'the neighbouring /64 is another client')
})
