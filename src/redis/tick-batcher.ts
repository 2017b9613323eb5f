/**
 * Collects the calls made during one turn of the event loop and sends them as one request
 * (one Redis script for all), resolving each caller with its own result. Under load, the
 * requests handled in the same turn share one round trip.
 */
export function tickBatcher<Item, Result>(send: (items: Item[]) => Promise<Result[]>): (item: Item) => Promise<Result> {
  let pending: Array<{ item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }> = []

  function flush() {
    const batch = pending
    pending = []
    send(batch.map((entry) => entry.item)).then(
      (results) => batch.forEach((entry, i) => entry.resolve(results[i]!)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error))
    )
  }

  return (item) =>
    new Promise<Result>((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush)
      pending.push({ item, resolve, reject })
    })
}
