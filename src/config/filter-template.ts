/**
 * The Secured API Key filters template, e.g. `tenant_id:{tenant} AND visibility:public`.
 * `{name}` is replaced by the session claim `name`, always as one quoted Algolia filter value,
 * so a crafted claim (`acme OR tenant_id:other`, quotes, parentheses) stays a single value and
 * can never widen the filter.
 */

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_.-]{0,63})\}/g

/** A reason the template is unusable, or undefined. Checked once at start-up. */
export function filterTemplateProblem(template: string): string | undefined {
  if (/["']\{|\}["']/.test(template)) return 'write placeholders unquoted (tenant_id:{tenant}); the gateway quotes each value itself'
  const stripped = template.replace(PLACEHOLDER, 'x')
  if (/[{}]/.test(stripped)) return 'placeholders are {claim}: letters, digits, "_", "." or "-"'
  return undefined
}

export type RenderedFilters = { readonly filters: string } | { readonly missingClaim: string }

/** Fills the template from verified session claims; a missing or non-scalar claim refuses the key. */
export function renderFilters(template: string, claims: Readonly<Record<string, unknown>>): RenderedFilters {
  let missingClaim: string | undefined
  const filters = template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = claims[name]
    const text =
      typeof value === 'string'
        ? value
        : typeof value === 'number' && Number.isFinite(value)
          ? String(value)
          : typeof value === 'boolean'
            ? String(value)
            : undefined
    if (text === undefined || text.length === 0 || /[\u0000-\u001f\u007f]/.test(text)) {
      missingClaim ??= name
      return ''
    }
    return quoteFilterValue(text)
  })
  return missingClaim === undefined ? { filters } : { missingClaim }
}

/** Algolia filter syntax: a value in double quotes, with `\` and `"` escaped by a backslash. */
export function quoteFilterValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}
