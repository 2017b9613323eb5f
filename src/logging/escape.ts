/**
 * Characters a log viewer would act on instead of showing: C0 and C1 controls, DEL, line and
 * paragraph separators, and the bidirectional overrides and isolates that reorder what a
 * terminal or web console displays (a user id `\u202Eadmin` reads as something else). JSON
 * escapes the C0 ones only; the others were written raw (issue 11).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/**
 * The longest client-controlled text a log line keeps, in characters before escaping. Long
 * enough for any honest path, origin, header name or refusal reason; short enough that a
 * hostile one cannot turn a line into kilobytes (issue 19: a `crit` entry quoted by jose made
 * 12 KB lines).
 */
export const LOG_TEXT_MAX = 256

/** The text with each unsafe character written as `\uXXXX`, so it reads the same everywhere. */
function escapeForLog(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Text that came from a client, fit for a log line: cut to LOG_TEXT_MAX (marked `…`), then escaped. */
export function clientTextForLog(text: string): string {
  return escapeForLog(text.length > LOG_TEXT_MAX ? `${text.slice(0, LOG_TEXT_MAX)}…` : text)
}
