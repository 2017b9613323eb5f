import type { PolicyConfig } from '../config/types.js'
import { InvalidRequest } from '../errors.js'

/** The schema's own bound (MAX_MESSAGES can be at most this), so ajv never walks an unbounded array. */
export const MESSAGES_CEILING = 10_000

/**
 * Long chats resend their whole history every turn (issue 10): when one is over the limit, the
 * message says which limit and its value, so a frontend developer can trim the history or ask
 * ops to raise MAX_MESSAGES.
 */
export function assertMessageCount(count: number, policy: PolicyConfig): void {
  if (count > policy.maxMessages) {
    throw new InvalidRequest(
      `"messages" has ${count} messages, more than the ${policy.maxMessages} this gateway accepts (MAX_MESSAGES); send fewer (e.g. drop the oldest turns)`
    )
  }
}
