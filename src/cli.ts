#!/usr/bin/env node
/** `agent-studio-gateway [start|doctor|usage]`: serve (the default), check a configuration without serving, or read usage. */
const command = process.argv[2] ?? 'start'

if (command === 'doctor') {
  const { runDoctor } = await import('./doctor.js')
  process.exitCode = await runDoctor()
} else if (command === 'usage') {
  const { ConfigError, loadConfigFromProcess } = await import('./config/load-config.js')
  const { runUsage } = await import('./usage-cli.js')
  try {
    process.exitCode = await runUsage(process.argv.slice(3), loadConfigFromProcess().config, (line) => process.stdout.write(`${line}\n`))
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`configuration is invalid:\n${error.problems.map((p) => `- ${p}`).join('\n')}\n`)
    process.exitCode = 2
  }
} else if (command === 'start') {
  await import('./server.js')
} else {
  process.stderr.write(
    `usage: agent-studio-gateway [start|doctor|usage]\n  start   serve (default)\n  doctor  check the configuration, keys, upstream, session material and Redis, then exit\n  usage   usage top: the heaviest users or agents by tokens over a window (Redis)\n`
  )
  process.exitCode = 2
}
