// The bench's account of the machine it ran on: load averages around each phase and the CPU
// that other processes used meanwhile. Figures are results only when the machine was idle
// (docs: "measured only on an idle machine", load average under 1.5); the bench's own processes
// load it too, so "others" is the machine's busy CPU minus the bench's own (itself, its children
// alive now and those it has reaped), read from /proc.
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'

/** The one-minute load average above which a figure is "loaded", not a result. */
export const IDLE_LOAD = 1.5
/** Other processes' CPU (in cores, averaged over a phase) above which a phase is "loaded". */
export const IDLE_OTHERS_CORES = 0.3

export interface PhaseLoad {
  readonly phase: string
  readonly before: number
  readonly after: number
  /** Cores other processes kept busy during the phase, on average. */
  readonly othersCores: number
  /** Cores the hypervisor gave to other machines while this one wanted them (steal), on average. */
  readonly stealCores: number
  readonly loaded: boolean
}

/** utime + stime (+ reaped children's) of a process, in clock ticks; 0 once it is gone. */
export function cpuTicks(pid: number | 'self', withReapedChildren = false): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    const own = Number(fields[11]) + Number(fields[12])
    return withReapedChildren ? own + Number(fields[13]) + Number(fields[14]) : own
  } catch {
    return 0
  }
}

/** All CPUs' busy ticks (everything but idle, iowait and steal) and stolen ticks, from /proc/stat. */
function machineTicks(): { busy: number; steal: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)
  const [user, nice, system, , , irq, softirq, steal] = values.map(Number) as number[]
  return { busy: user! + nice! + system! + irq! + softirq!, steal: steal! }
}

const oneMinute = () => loadavg()[0]!

/**
 * Waits (at most `maxSeconds`) for the one-minute load to fall under IDLE_LOAD, so that a phase
 * does not start in the wake of the previous one's own load.
 */
export async function settle(maxSeconds: number): Promise<void> {
  const deadline = Date.now() + maxSeconds * 1000
  while (oneMinute() >= IDLE_LOAD && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1000))
}

/** Runs one phase and records the machine's load around it. `livePids`: the bench's children alive during it. */
export async function measured<T>(phase: string, livePids: () => number[], clockTicks: number, run: () => Promise<T>, record: PhaseLoad[]): Promise<T> {
  const own = () => cpuTicks('self', true) + livePids().reduce((sum, pid) => sum + cpuTicks(pid), 0)
  const before = oneMinute()
  const machineBefore = machineTicks()
  const ownBefore = own()
  const started = performance.now()
  const result = await run()
  const seconds = (performance.now() - started) / 1000
  const machineAfter = machineTicks()
  const others = Math.max(0, machineAfter.busy - machineBefore.busy - (own() - ownBefore)) / clockTicks / seconds
  const steal = (machineAfter.steal - machineBefore.steal) / clockTicks / seconds
  const after = oneMinute()
  record.push({
    phase,
    before,
    after,
    othersCores: others,
    stealCores: steal,
    loaded: before >= IDLE_LOAD || others >= IDLE_OTHERS_CORES || steal >= IDLE_OTHERS_CORES
  })
  return result
}

export function describeLoads(record: readonly PhaseLoad[]): string {
  return record
    .map(
      (r) =>
        `${r.phase}: ${r.before.toFixed(2)} → ${r.after.toFixed(2)}, others ${r.othersCores.toFixed(2)} cores, steal ${r.stealCores.toFixed(2)} cores${r.loaded ? ' (LOADED)' : ''}`
    )
    .join('; ')
}
