/**
 * Collects calls and sends them as one request (one Redis script for all), resolving each caller
 * with its own result. A batch leaves at the end of the event-loop turn it was started in, unless
 * the previous one is still on its way: then the calls wait for its answer and leave together at
 * once (issue 26). An idle gateway thus waits for nothing, and a busy one sends one batch per
 * round trip instead of one per turn, each carrying what arrived meanwhile: fewer writes, fewer
 * scripts, less CPU for the gateway and Redis. `send` must settle (the answer timeout sees to it).
 */
export function tickBatcher<Item, Result>(send: (items: Item[]) => Promise<Result[]>): (item: Item) => Promise<Result> {
  let pending: Array<{ item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }> = []
  let scheduled = false
  let inFlight = false

  function flush() {
    scheduled = false
    if (inFlight || pending.length === 0) return
    const batch = pending
    pending = []
    inFlight = true
    send(batch.map((entry) => entry.item)).then(
      (results) => {
        inFlight = false
        flush()
        batch.forEach((entry, i) => entry.resolve(results[i]!))
      },
      (error: unknown) => {
        inFlight = false
        flush()
        batch.forEach((entry) => entry.reject(error))
      }
    )
  }

  return (item) =>
    new Promise<Result>((resolve, reject) => {
      pending.push({ item, resolve, reject })
      if (!scheduled && !inFlight) {
        scheduled = true
        setImmediate(flush)
      }
    })
}
