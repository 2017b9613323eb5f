import { Writable } from 'node:stream'
import t from 'tap'
import { createAuditLog } from '../../src/audit/audit-log.js'

// Found while merging issue 24: the audit trail wrote a user id's U+2028, U+0085 and bidi
// override raw (JSON leaves them as they are). Whatever reads the trail line by line then saw a
// line break in the middle of an event (tap's own parser lost the rest of a test file's output),
// and a console showed the id reordered. The trail now escapes them like the request's log line.
t.test('an audit event escapes and caps the texts a client shapes', async (t) => {
  const lines: string[] = []
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'))
      done()
    }
  })
  const audit = createAuditLog({ destination: 'stdout' }, () => undefined, capture)
  audit.write({
    action: 'erasure',
    outcome: 'failed',
    requestId: 'r1',
    userId: '\u202Eevil\u2028line\u0085x',
    conversationId: 'c'.repeat(300),
    toolName: 'refund\u2029'
  })
  await audit.close()
  const text = lines.join('')
  t.equal(text.split('\n').filter((line) => line.length > 0).length, 1, 'one event, one line')
  t.notMatch(text, /[\u0080-\u009f\u202a-\u202e\u2028\u2029]/, 'no such character raw')
  const event = JSON.parse(text) as Record<string, string>
  t.equal(event.userId, '\\u202eevil\\u2028line\\u0085x')
  t.equal(event.toolName, 'refund\\u2029')
  t.equal(event.conversationId, `${'c'.repeat(256)}…`, 'cut at 256 characters, like the request log')
})
