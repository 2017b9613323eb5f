import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'

// GET /1/agents/{agentId}/conversations (paths/conversations/conversations.yml): query `page`
// (integer ≥ 1, default 1), `limit` (1–100, default 20), `startDate`/`endDate` (YYYY-MM-DD),
// `includeFeedback`, `feedbackVote` (0–1, with includeFeedback); answers a
// PaginatedConversationsResponse `{ data: ConversationBaseResponse[], pagination: { page,
// limit, totalCount, totalPages } }` (common/schemas/PaginatedConversationsResponse.yml,
// PaginationMetadata.yml); a query out of range is a 422 HTTPValidationError.

const shared = sharedStandIn(t)
const path = `/1/agents/${AGENT_ID}/conversations`
const today = new Date().toISOString().slice(0, 10)
const CONVERSATIONS = 5

t.before(async () => {
  for (let n = 1; n <= CONVERSATIONS; n++) {
    await shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
      user: 'lister',
      body: { id: `alg_cnv_list${n}`, messages: [{ id: `m${n}`, role: 'user', parts: [{ type: 'text', text: `question ${n}` }] }] }
    })
  }
})

t.test('by default the first page of 20, with the pagination block', async (t) => {
  const body = (await shared.call('GET', path, { user: 'lister' })).json<{ data: unknown[]; pagination: unknown }>()
  t.equal(body.data.length, CONVERSATIONS)
  t.same(body.pagination, { page: 1, limit: 20, totalCount: CONVERSATIONS, totalPages: 1 })
})

t.test("each item is a conversation without its messages, with the spec's required fields", async (t) => {
  const item = (await shared.call('GET', path, { user: 'lister' })).json<{ data: Array<Record<string, unknown>> }>().data[0]!
  t.same(Object.keys(item).sort(), [
    'agentId',
    'createdAt',
    'id',
    'lastActivityAt',
    'messageCount',
    'title',
    'totalInputTokens',
    'totalOutputTokens',
    'totalTokens',
    'updatedAt',
    'userToken'
  ])
  t.match(item, { id: /^alg_cnv_list\d$/, agentId: AGENT_ID, title: /^question \d$/, userToken: 'lister', messageCount: 2, createdAt: /^\d{4}-\d{2}-\d{2}T/ })
})

t.test('page and limit slice the list; totalPages counts the pages', async (t) => {
  const pages = []
  for (const page of [1, 2, 3, 4])
    pages.push((await shared.call('GET', `${path}?page=${page}&limit=2`, { user: 'lister' })).json<{ data: Array<{ id: string }>; pagination: unknown }>())
  t.same(
    pages.map((p) => p.data.length),
    [2, 2, 1, 0]
  )
  t.same(pages[1]!.pagination, { page: 2, limit: 2, totalCount: CONVERSATIONS, totalPages: 3 })
  t.equal(new Set(pages.flatMap((p) => p.data.map((c) => c.id))).size, CONVERSATIONS, 'every conversation on exactly one page')
})

t.test('startDate and endDate keep the conversations created within those days', async (t) => {
  const within = (await shared.call('GET', `${path}?startDate=${today}&endDate=${today}`, { user: 'lister' })).json<{ pagination: { totalCount: number } }>()
  t.equal(within.pagination.totalCount, CONVERSATIONS, 'both days count')
  const before = (await shared.call('GET', `${path}?endDate=2000-01-01`, { user: 'lister' })).json<{ data: unknown[]; pagination: { totalCount: number } }>()
  t.same(before.data, [])
  t.equal(before.pagination.totalCount, 0)
  const after = (await shared.call('GET', `${path}?startDate=2999-01-01`, { user: 'lister' })).json<{ pagination: { totalCount: number } }>()
  t.equal(after.pagination.totalCount, 0)
})

const invalid: Array<[string, Record<string, unknown>]> = [
  ['page=0', { loc: ['query', 'page'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal', input: '0', ctx: { ge: 1 } }],
  ['page=two', { loc: ['query', 'page'], msg: 'Input should be a valid integer, unable to parse string as an integer', type: 'int_parsing', input: 'two' }],
  ['limit=0', { loc: ['query', 'limit'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal', input: '0', ctx: { ge: 1 } }],
  ['limit=101', { loc: ['query', 'limit'], msg: 'Input should be less than or equal to 100', type: 'less_than_equal', input: '101', ctx: { le: 100 } }],
  [
    'includeFeedback=true&feedbackVote=2',
    { loc: ['query', 'feedbackVote'], msg: 'Input should be less than or equal to 1', type: 'less_than_equal', input: '2', ctx: { le: 1 } }
  ]
]

for (const [query, problem] of invalid) {
  t.test(`${query} is a 422 whose detail names the query parameter`, async (t) => {
    const answer = await shared.call('GET', `${path}?${query}`, { user: 'lister' })
    t.equal(answer.status, 422)
    t.same(answer.json(), { detail: [problem] })
  })
}

t.test('every out-of-range parameter is reported at once', async (t) => {
  const answer = await shared.call('GET', `${path}?page=0&limit=500`, { user: 'lister' })
  t.equal(answer.status, 422)
  t.same(
    answer.json<{ detail: Array<{ loc: unknown }> }>().detail.map((problem) => problem.loc),
    [
      ['query', 'page'],
      ['query', 'limit']
    ]
  )
})
