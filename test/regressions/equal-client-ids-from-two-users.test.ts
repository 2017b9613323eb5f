import t from 'tap'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { conversationSetup as setup, upstreamId } from '../helpers/conversations.js'

const base = `/agent-studio/1/agents/${AGENT_ID}/conversations`
const completions = (agent = AGENT_ID) => `/agent-studio/1/agents/${agent}/completions?compatibilityMode=ai-sdk-5&stream=false`

// Bug: InstantSearch makes 7-character random ids; when two users picked the same one, the second
// user's whole chat answered 404 conversation_not_found (the id was the first user's upstream).
t.test('the same client id from A and B reaches two upstream conversations; each sees only their own', async (t) => {
  const { standIn, a, b } = await setup(t)
  t.equal((await a('POST', completions(), completionBody('A says hello', { id: 'shared7' }))).statusCode, 200)
  t.equal((await b('POST', completions(), completionBody('B says hello', { id: 'shared7' }))).statusCode, 200)
  const forwarded = standIn.received.filter((r) => r.path.endsWith('/completions')).map((r) => (r.body as { id: string }).id)
  t.same(forwarded, [upstreamId('user-a', 'shared7'), upstreamId('user-b', 'shared7')])
  t.not(forwarded[0], forwarded[1])

  const readA = (await a('GET', `${base}/shared7`)).json() as { messages: Array<{ role: string; parts: Array<{ text: string }> }> }
  const readB = (await b('GET', `${base}/shared7`)).json() as { messages: Array<{ role: string; parts: Array<{ text: string }> }> }
  t.same(
    readA.messages.map((m) => m.role),
    ['user', 'assistant'],
    'the question and the answer are stored'
  )
  t.equal(readA.messages[0]!.parts[0]!.text, 'A says hello')
  t.equal(readB.messages[0]!.parts[0]!.text, 'B says hello')
  t.notMatch(JSON.stringify(readA), /B says/)
})
