import type { PolicyConfig } from '../config/types.js'
import { ForbiddenField } from '../errors.js'
import { instructionMessagePath } from './instruction-roles.js'

/**
 * `POST /1/agents/{agentId}/tasks` (Algolia's spec: paths/agents/agentTasks.yml; TaskRequest):
 * `{ task?, kind?, input, configuration? }`, strict (unknown top-level fields are refused, as
 * Agent Studio itself refuses them). `task` is the id of a task configured on the agent
 * (3–64 characters); `kind` is one of the spec's TaskKind values (only `prompt_suggestions`);
 * `input` is free-form JSON for the task, bounded by the route's body limit
 * (TASK_BODY_LIMIT_BYTES). InstantSearch's prompt suggestions send `{ task, input }`
 * (instantsearch.js lib/tasks/buildTaskPayload.ts).
 */
export const TASK_KINDS = ['prompt_suggestions'] as const

export const taskBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['input'],
  properties: {
    task: { type: 'string', minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' },
    kind: { type: 'string', enum: TASK_KINDS },
    input: { type: 'object' },
    configuration: {}
  }
} as const

export interface TaskBody {
  task?: string
  kind?: (typeof TASK_KINDS)[number]
  input: Record<string, unknown>
  configuration?: unknown
}

/** The forwarded body, rebuilt from the known fields; `configuration` only if ops allow it (it replaces the agent's prompt). */
export function buildTaskBodyPolicy(policy: PolicyConfig): (body: TaskBody) => TaskBody {
  return function taskBody(body) {
    if (body.configuration !== undefined && !policy.allowConfiguration) {
      throw new ForbiddenField('"configuration" (it would replace the agent\'s instructions, tools and task definitions)')
    }
    if (!policy.allowSystemMessages) {
      const path = instructionMessagePath(body.input, 'input')
      if (path !== undefined)
        throw new ForbiddenField(`"${path}" with a "system" or "developer" role (the task input must not carry instructions that override the agent's)`)
    }
    const forwarded: TaskBody = { input: body.input }
    if (body.task !== undefined) forwarded.task = body.task
    if (body.kind !== undefined) forwarded.kind = body.kind
    if (body.configuration !== undefined) forwarded.configuration = body.configuration
    return forwarded
  }
}
