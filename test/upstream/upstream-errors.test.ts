import t from 'tap'
import { rejectedError, validationDetail } from '../../src/upstream/upstream-errors.js'

t.test('other upstream 4xx keep their status with our own words', async (t) => {
  const conflict = rejectedError(409, '{"message":"internal detail"}') as Error & { statusCode: number; code: string }
  t.equal(conflict.statusCode, 409)
  t.equal(conflict.code, 'UPSTREAM_REJECTED')
  t.equal(conflict.message, 'Agent Studio refused the request (status 409).')
  const invalid = rejectedError(422, 'not json') as Error & { publicFields?: unknown }
  t.equal(invalid.publicFields, undefined, 'no detail when upstream gave none')
})

t.test('a 422 detail keeps only loc, msg and type, bounded', async (t) => {
  t.equal(validationDetail('{"detail":"Conversation not found"}'), undefined)
  t.equal(validationDetail('{"detail":[{"msg":1}]}'), undefined)
  const many = JSON.stringify({
    detail: Array.from({ length: 30 }, (_, i) => ({ loc: ['body', i, { x: 1 }], msg: 'm'.repeat(400), type: 't', input: 'secret' }))
  })
  const items = validationDetail(many)!
  t.equal(items.length, 20)
  t.same(items[0], { loc: ['body', 0], msg: 'm'.repeat(300), type: 't' })
})
