/**
 * Test support for any delivery log: watch what it tells listeners, fill it, read pages.
 */
import type { Log, LogAppend, LogEntry, LogGap, LogRead } from '../src/core/log.js'

/** Records what `log` tells its listeners; `until` resolves once a condition holds. */
export function watch(log: Log) {
  const told: LogEntry[] = []
  const gaps: LogGap[] = []
  let wake = () => {}
  log.subscribe(
    (entry) => {
      told.push(entry)
      wake()
    },
    (gap) => {
      gaps.push(gap)
      wake()
    },
  )
  return {
    told,
    gaps,
    until(predicate: () => boolean, ms = 5_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out with ${told.length} told`)), ms)
        wake = () => {
          if (predicate()) {
            clearTimeout(timer)
            resolve()
          }
        }
        wake()
      })
    },
  }
}

export async function fill(log: Log, count: number, extra: Partial<LogAppend> = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = []
  for (let i = 0; i < count; i++) out.push(await log.append({ type: 'm', topic: 't', data: i, ...extra }))
  return out
}

export function ok(page: LogRead): { entries: readonly LogEntry[]; more: boolean } {
  if (!page.ok) throw new Error(`expected a page, got a reset (${page.reason})`)
  return page
}
