// Where the time goes: sums a V8 CPU profile's self time by package (node_modules), our own
// files, and Node's internals, and divides by the requests served while it was recording.
//
//   tsx bench/profile-summary.ts <file.cpuprofile> <requests>
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export function categoryOf(url: string, functionName: string): string {
  if (url === '') return functionName === '' ? '(anonymous native)' : `(${functionName.replace(/[()]/g, '')})`
  const modules = url.lastIndexOf('/node_modules/')
  if (modules !== -1) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/')
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  if (url.startsWith('node:')) {
    const path = url.slice('node:'.length).replace(/^internal\//, '')
    return `node:${path.split('/')[0]!.replace(/\.js$/, '').replace(/_.*$/, '')}`
  }
  const ours = /\/(?:dist|src)\/(.*)$/.exec(url)
  return ours === null ? url : `gateway: ${ours[1]!.replace(/\.(js|ts)$/, '')}`
}

/** `fromEndUs`: keep only samples between these two distances (µs) before the profile's end. */
export function summarise(profile: Profile, window?: { fromEndUs: [number, number] }): Array<{ category: string; ms: number }> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const totals = new Map<string, number>()
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0
    if (window !== undefined && (at < profile.endTime - window.fromEndUs[0] || at > profile.endTime - window.fromEndUs[1])) return
    const node = byId.get(id)!
    const category = categoryOf(node.callFrame.url, node.callFrame.functionName)
    totals.set(category, (totals.get(category) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  })
  return [...totals].map(([category, ms]) => ({ category, ms })).sort((a, b) => b.ms - a.ms)
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const [file, requests] = process.argv.slice(2)
  const rows = summarise(JSON.parse(readFileSync(file!, 'utf8')) as Profile)
  const busy = rows.filter((r) => r.category !== '(idle)').reduce((sum, r) => sum + r.ms, 0)
  for (const row of rows.slice(0, 25))
    console.log(
      `${row.category.padEnd(40)} ${((row.ms * 1000) / Number(requests)).toFixed(1).padStart(7)} µs/request  ${((100 * row.ms) / busy).toFixed(1).padStart(5)} %`
    )
}
