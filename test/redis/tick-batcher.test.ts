// Issue 26: one batch in flight at a time. Calls made while it is on its way leave together the
// moment it is answered; an idle caller waits for nothing but the end of its turn.
import t from 'tap'
import { tickBatcher } from '../../src/redis/tick-batcher.js'

function deferredSender() {
  const sent: number[][] = []
  const answers: Array<(results: number[] | Error) => void> = []
  const send = (items: number[]) => {
    sent.push(items)
    return new Promise<number[]>((resolve, reject) => answers.push((r) => (r instanceof Error ? reject(r) : resolve(r))))
  }
  return { send, sent, answer: (i: number, r: number[] | Error) => answers[i]!(r) }
}
const turn = () => new Promise((resolve) => setImmediate(resolve))

t.test('calls of one turn leave together at its end; calls made while a batch is out wait for its answer, then leave as one', async (t) => {
  const { send, sent, answer } = deferredSender()
  const ask = tickBatcher(send)
  const first = [ask(1), ask(2)]
  t.same(sent, [], 'nothing leaves before the end of the turn')
  await turn()
  t.same(sent, [[1, 2]], 'one batch for the turn')
  const waiting = [ask(3)]
  await turn()
  waiting.push(ask(4))
  await turn()
  t.same(sent, [[1, 2]], 'no second batch while the first is out, over several turns')
  answer(0, [10, 20])
  t.same(await Promise.all(first), [10, 20], 'each caller gets its own result')
  t.same(
    sent,
    [
      [1, 2],
      [3, 4]
    ],
    'what waited left as one batch the moment the answer came'
  )
  answer(1, new Error('refused'))
  for (const call of waiting) await t.rejects(call, /refused/, 'a failed batch fails each of its callers')
  const after = ask(5)
  await turn()
  t.same(sent.at(-1), [5], 'a failure does not block the next batch')
  answer(2, [50])
  t.equal(await after, 50)
})
