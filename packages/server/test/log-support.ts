/**
 * Test support for any delivery log: watch what it tells listeners, fill it, read pages.
 */
import fc from 'fast-check'
import { expect } from 'vitest'
import {
  type Log,
  type LogAppend,
  type LogEntry,
  type LogFilter,
  type LogGap,
  type LogRead,
  matchesFilter,
} from '../src/core/log.js'

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

/** Reads from `afterId` to the end, page by page, following the log's cursor; or the reset reason. */
export async function readAll(log: Log, afterId: string, limit: number, filter?: LogFilter) {
  const out: LogEntry[] = []
  let cursor = afterId
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await log.read(cursor, limit, filter)
    if (!page.ok) return { reason: page.reason, pages }
    if (page.entries.length > limit) throw new Error(`a page of ${page.entries.length} entries for a limit of ${limit}`)
    out.push(...page.entries)
    const next = page.cursor ?? page.entries.at(-1)?.id ?? cursor
    if (page.more && next === cursor) throw new Error(`a page with more but no progress after ${cursor}`)
    cursor = next
    if (!page.more) return { entries: out, pages: pages + 1 }
  }
  throw new Error('a read that never ends')
}

const TOPICS = ['a', 'b', 'c', 'd'] as const
const USERS = ['u1', 'u2', 'u3'] as const

/** Appends for {@link filteredReadsAgree}: a few topics, some entries only for some users. */
export const filterAppends = fc.array(
  fc.record({
    topic: fc.constantFrom(...TOPICS),
    to: fc.option(fc.subarray([...USERS]), { nil: undefined }),
  }),
  { minLength: 1, maxLength: 40 },
)

/**
 * Appends `appends` in order and returns the positions a client may hold for
 * {@link filteredReadsAgree}: the origin, then every appended id.
 */
export async function appendPositions(
  log: Log,
  appends: readonly Pick<LogAppend, 'topic' | 'to'>[],
): Promise<string[]> {
  const positions = [log.head()]
  for (const [i, append] of appends.entries()) {
    positions.push((await log.append({ type: 'm', data: i, ...append })).id)
  }
  return positions
}

/** One read of {@link filteredReadsAgree}. */
export interface FilterRead {
  readonly at: number
  readonly topics: readonly string[]
  readonly userId: string | undefined
  readonly limit: number
}

/** Reads for {@link filteredReadsAgree}: positions (index into the appended ids), filters, page sizes. */
export const filterReads: fc.Arbitrary<FilterRead[]> = fc.array(
  fc.record({
    at: fc.nat(),
    topics: fc.subarray([...TOPICS], { minLength: 1 }),
    userId: fc.option(fc.constantFrom(...USERS), { nil: undefined }),
    limit: fc.integer({ min: 1, max: 7 }),
  }),
  { minLength: 1, maxLength: 6 },
)

/**
 * A filtered read returns exactly the entries the filter accepts, in order, the same as an
 * unfiltered read filtered afterwards, and refuses a position for the same reason.
 * `positions` are the ids a client may hold: the origin, then every appended id.
 * `concurrent`: the filtered reads run at once (as resumes in a reconnect storm do).
 */
export async function filteredReadsAgree(
  log: Log,
  positions: readonly string[],
  reads: readonly FilterRead[],
  { concurrent = false } = {},
): Promise<void> {
  const cases = reads.map((read) => ({
    read,
    after: positions[read.at % positions.length] as string,
    filter: { topics: new Set(read.topics), userId: read.userId } as LogFilter,
  }))
  const expected: unknown[] = []
  for (const { after, filter, read } of cases) {
    const plain = await readAll(log, after, read.limit)
    expected.push(
      'reason' in plain ? plain.reason : plain.entries.filter((e) => matchesFilter(e, filter)).map((e) => e.id),
    )
  }
  const filteredRead = async ({ after, filter, read }: (typeof cases)[number]) => {
    const filtered = await readAll(log, after, read.limit, filter)
    return 'reason' in filtered ? filtered.reason : filtered.entries.map((e) => e.id)
  }
  const actual: unknown[] = []
  if (concurrent) actual.push(...(await Promise.all(cases.map(filteredRead))))
  else for (const c of cases) actual.push(await filteredRead(c))
  for (const [i, { after, read }] of cases.entries()) {
    expect({ after, filter: read, got: actual[i] }).toEqual({ after, filter: read, got: expected[i] })
  }
}
