import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { stringify } from 'yaml'
import type { Test } from 'tap'
import { keyPrefix } from '../../src/redis/keys.js'
import { tempDir } from './temp-dir.js'

export const SHARED_REDIS = 'redis://127.0.0.1:6379'

/** A policy file with these limits (everything else default, but the upstream budget off unless given: see NO_BUDGET_POLICY). */
export function limitsFile(limits: Record<string, unknown>): string {
  const path = join(tempDir('asg-limits-'), 'gateway.yaml')
  writeFileSync(path, stringify({ limits: { upstreamBudget: { max: 0 }, ...limits } }))
  return path
}

export function rewriteLimits(path: string, limits: Record<string, unknown> | string): void {
  writeFileSync(path, typeof limits === 'string' ? limits : stringify({ limits }))
}

/** A namespace of this test's own on the shared Redis, removed afterwards: tests run in parallel. */
export function redisNamespace(t: Test): string {
  const namespace = `asg-test:${randomUUID()}:`
  t.teardown(async () => {
    const redis = new Redis(SHARED_REDIS)
    const keys = await redis.keys(`${keyPrefix(namespace)}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })
  return namespace
}

/** A key as the gateway names it in Redis: inside the namespace's hash tag (src/redis/keys.ts). */
export function redisKey(namespace: string, key: string): string {
  return keyPrefix(namespace) + key
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

/** A Redis of the test's own, on another port, that the test may stop and start again. */
export async function privateRedis(t: Test) {
  const port = await freePort()
  let child: ReturnType<typeof spawn> | undefined
  async function start() {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null })
    await probe.connect().catch(() => undefined)
    await probe.ping()
    probe.disconnect()
  }
  async function stop() {
    const exited = new Promise((resolve) => child!.once('exit', resolve))
    child!.kill('SIGKILL')
    await exited
  }
  await start()
  t.teardown(() => child?.kill('SIGKILL'))
  return { url: `redis://127.0.0.1:${port}`, start, stop }
}

/**
 * A TCP relay to the shared Redis that a test can disturb: `cut` drops every connection (and
 * refuses new ones) until `restore`; `hold` keeps the gateway's commands (gateway → Redis) until
 * `release`, and `nextHeld` resolves when one is held.
 */
export async function redisRelay(t: Test) {
  const target = new URL(SHARED_REDIS)
  let cut = false
  let holding = false
  const held: Array<() => void> = []
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    if (cut) return void client.destroy()
    const redis = connect(Number(target.port), target.hostname)
    sockets.add(client).add(redis)
    redis.pipe(client)
    client.on('data', (chunk) => {
      if (!holding) return void redis.write(chunk)
      held.push(() => redis.write(chunk))
      server.emit('held')
    })
    const end = () => {
      client.destroy()
      redis.destroy()
      sockets.delete(client)
      sockets.delete(redis)
    }
    client.on('close', end).on('error', end)
    redis.on('close', end).on('error', end)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    cut: () => {
      cut = true
      sockets.forEach((socket) => socket.destroy())
    },
    restore: () => (cut = false),
    hold: () => (holding = true),
    release: () => {
      holding = false
      held.splice(0).forEach((write) => write())
    },
    nextHeld: () => once(server, 'held')
  }
}
