import type { Histogram } from 'prom-client'

export class RedisTimeout extends Error {
  constructor(
    readonly waitedMs: number,
    readonly timerLateMs: number
  ) {
    super(`Redis did not answer within ${Math.round(waitedMs)} ms`)
    this.name = 'RedisTimeout'
  }
}

/**
 * Waits for a Redis answer at most `timeoutMs` of Redis's time, not of ours. Under load the
 * gateway's own event loop is late: the answer may sit unread in the socket while the timer
 * phase (which runs before the poll phase that reads sockets) fires the timeout. Issue 14 saw
 * exactly that: requests let through without their limits while Redis was healthy. So when the
 * timer fires we give the loop one full turn (setImmediate runs after the poll phase) to read
 * what already arrived, and only then fail. The time is observed in `answerSeconds`; the loop's
 * own delay is Node's `gateway_nodejs_eventloop_lag_*` metrics, so the two are told apart.
 */
export function withAnswerTimeout<T>(answer: Promise<T>, timeoutMs: number, answerSeconds: Histogram): Promise<T> {
  const started = performance.now()
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const timer = setTimeout(() => {
      // Node's timers run on the loop's cached clock, so one can fire a fraction of a
      // millisecond "early" by performance.now(): lateness is never below zero.
      const timerLateMs = Math.max(0, performance.now() - started - timeoutMs)
      setImmediate(() => {
        if (settled) return
        settled = true
        reject(new RedisTimeout(performance.now() - started, timerLateMs))
      })
    }, timeoutMs)
    answer.then(
      (value) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        answerSeconds.observe((performance.now() - started) / 1000)
        resolve(value)
      },
      (error: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        reject(error)
      }
    )
  })
}
