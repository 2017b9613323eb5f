import fc from 'fast-check'
import t from 'tap'
import {
  CLIENT_CONVERSATION_ID_PATTERN,
  MAX_CLIENT_CONVERSATION_ID_LENGTH,
  conversationNamespace,
  conversationTag,
  isClientConversationId
} from '../../src/policy/conversation-namespace.js'

const UPSTREAM_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/
const clientId = fc.stringMatching(CLIENT_CONVERSATION_ID_PATTERN)
const userId = fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' })
/** Anything a browser could send, valid or not, including another user's upstream ids. */
const anyId = fc.oneof(
  clientId,
  fc.string({ maxLength: 200, unit: 'binary' }),
  fc.tuple(userId, clientId).map(([user, id]) => conversationNamespace(user).toUpstream(id))
)

t.test("a client id maps into the caller's namespace and back, for every id the pattern accepts", async (t) => {
  fc.assert(
    fc.property(userId, clientId, (user, id) => {
      const namespace = conversationNamespace(user)
      const upstream = namespace.toUpstream(id)
      return UPSTREAM_ID.test(upstream) && upstream.length <= 128 && namespace.toClient(upstream) === id
    })
  )
  t.equal(MAX_CLIENT_CONVERSATION_ID_LENGTH, 95)
  t.equal(conversationNamespace('user-a').toUpstream('x'.repeat(95)).length, 128)
})

t.test("no client id, encoded or not, lands in another user's namespace", async (t) => {
  fc.assert(
    fc.property(userId, userId, anyId, (a, b, id) => {
      fc.pre(a !== b)
      if (!isClientConversationId(id)) return true
      const upstream = conversationNamespace(a).toUpstream(id)
      return conversationNamespace(b).toClient(upstream) === undefined && upstream.startsWith(`${conversationTag(a)}_`)
    }),
    { numRuns: 2000 }
  )
  // The obvious attempt: B's upstream id sent by A stays A's.
  const bUpstream = conversationNamespace('user-b').toUpstream('conv_b1')
  const aUpstream = conversationNamespace('user-a').toUpstream(bUpstream)
  t.equal(aUpstream, `${conversationTag('user-a')}_${bUpstream}`)
  t.equal(conversationNamespace('user-b').toClient(aUpstream), undefined)
})

t.test("ids outside a namespace (raw, another system's, another user's) map back to nothing", async (t) => {
  const a = conversationNamespace('user-a')
  for (const foreign of [
    'conv_1',
    'alg_cnv_123',
    conversationNamespace('user-b').toUpstream('x'),
    `${conversationTag('user-a')}x`,
    `${conversationTag('user-a').toUpperCase()}_x`,
    `${conversationTag('user-a')}_`,
    `${conversationTag('user-a')}_-x`
  ]) {
    t.equal(a.toClient(foreign), undefined, foreign)
  }
})

t.test('the tag is a fixed-length digest of the user id: tenant-scoped ids get their own', async (t) => {
  t.equal(conversationTag('42').length, 32)
  t.match(conversationTag('42'), /^[0-9a-f]{32}$/)
  t.not(conversationTag('acme:42'), conversationTag('globex:42'))
  t.equal(conversationTag('acme:42'), conversationTag('acme:42'), 'stable: no secret, no rotation hides conversations')
})
