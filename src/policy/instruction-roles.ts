/**
 * Where in free-form JSON an object with an instruction role (`system`, `developer`) sits, if
 * anywhere: a task's `input` (issue 19) and what an AG-UI message carries besides its own role
 * (review finding). Agent Studio hands such content to the model as it is, so a
 * `{ role: "system" }` object at any depth can read as the agent's own instructions. Depth is
 * already bounded (64) by the JSON parser, size by the body limits.
 */
export function instructionMessagePath(value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = instructionMessagePath(item, `${path}[${index}]`)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (value === null || typeof value !== 'object') return undefined
  const role = (value as { role?: unknown }).role
  if (typeof role === 'string' && INSTRUCTION_ROLES.has(role.toLowerCase())) return path
  for (const [key, inner] of Object.entries(value)) {
    const found = instructionMessagePath(inner, `${path}.${key}`)
    if (found !== undefined) return found
  }
  return undefined
}

const INSTRUCTION_ROLES: ReadonlySet<string> = new Set(['system', 'developer'])
