import { z } from 'zod'
import type { Frozen } from './frozen.js'

/**
 * Issue 24: where the audit trail goes, the policy file's `audit:` section (read once at start).
 * A separate pino destination from the request log, so it can be kept, shipped and access-
 * controlled on its own terms:
 *
 * ```yaml
 * audit:
 *   destination: file            # stdout (default), stderr, file or syslog
 *   path: /var/log/asg/audit.log # file: appended to, created if missing
 *   # syslog: { host: 127.0.0.1, port: 514 }   # RFC 5424 over UDP, facility auth (4)
 * ```
 */
const auditSchema = z
  .object({
    destination: z.enum(['stdout', 'stderr', 'file', 'syslog']).default('stdout'),
    path: z.string().min(1).optional(),
    syslog: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(514),
        /** What the lines say they come from (RFC 5424 APP-NAME). */
        appName: z
          .string()
          .regex(/^[!-~]{1,48}$/)
          .default('agent-studio-gateway')
      })
      .strict()
      .optional()
  })
  .strict()
  .superRefine((audit, context) => {
    if (audit.destination === 'file' && audit.path === undefined) context.addIssue({ code: 'custom', message: 'destination file needs a path', path: ['path'] })
    if (audit.destination === 'syslog' && audit.syslog === undefined)
      context.addIssue({ code: 'custom', message: 'destination syslog needs syslog.host (and port)', path: ['syslog'] })
  })

export type AuditConfig = Frozen<z.output<typeof auditSchema>>

export function parseAudit(raw: unknown, source: string): { audit: AuditConfig } | { problems: string[] } {
  const result = auditSchema.safeParse(raw ?? {})
  if (result.success) return { audit: result.data }
  return { problems: result.error.issues.map((issue) => `${source} audit.${issue.path.join('.')}: ${issue.message}`) }
}
