import t from 'tap'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion } from '../helpers/requests.js'

t.test('the first event reaches the browser before the stand-in sends the second', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  const gateway = await startGateway(t, upstream)

  let releaseSecond!: () => void
  const secondMayGo = new Promise<void>((resolve) => (releaseSecond = resolve))
  const sent: number[] = []
  standIn.setBeforeEvent(async (index) => {
    if (index === 1) await secondMayGo
    sent.push(index)
  })

  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1' })
  t.equal(response.statusCode, 200)
  const chunks = response.body[Symbol.asyncIterator]()
  // The guard timer is cleared once the race is decided: left running, it would hold the
  // process open for its full 5 s after the test has passed.
  let guard: NodeJS.Timeout | undefined
  const first = await Promise.race([
    chunks.next(),
    new Promise<never>((_resolve, reject) => (guard = setTimeout(() => reject(new Error('the first event is being held back: something buffers')), 5000)))
  ]).finally(() => clearTimeout(guard))
  t.same(sent, [0], 'when the browser holds the first event, the stand-in has sent nothing else')
  t.match(String(first.value), /^data: \{"type":"start"/)

  releaseSecond()
  let rest = ''
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) rest += String(next.value)
  t.ok(rest.endsWith('data: [DONE]\n\n'), 'the rest of the stream follows once released')
  t.ok(sent.length > 5)
})
