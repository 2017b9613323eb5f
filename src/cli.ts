#!/usr/bin/env node
/** `agent-studio-gateway [start|doctor]`: serve (the default), or check a configuration without serving. */
const command = process.argv[2] ?? 'start'

if (command === 'doctor') {
  const { runDoctor } = await import('./doctor.js')
  process.exitCode = await runDoctor()
} else if (command === 'start') {
  await import('./server.js')
} else {
  process.stderr.write(`usage: agent-studio-gateway [start|doctor]\n  start   serve (default)\n  doctor  check the configuration, keys, upstream, session material and Redis, then exit\n`)
  process.exitCode = 2
}
