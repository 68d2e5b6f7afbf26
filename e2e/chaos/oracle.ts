/**
 * The chaos run's oracle: what each client received against what it was allowed to see.
 * Every event it may see (its topics, `to`, `types`) that was accepted must arrive once, in
 * its source's order, or be covered by an `rt.reset` received since the previous one;
 * nothing it may not see may arrive.
 */

export type Source = 'app' | 'db'

/** One event as published: `src` and `n` name it, the rest decide who may see it. */
export interface Sent {
  readonly src: Source
  readonly n: number
  /** Its place among every publish and insert of the run. */
  readonly seq: number
  readonly type: string
  readonly topic: string
  readonly to?: readonly string[] | undefined
  /** With RT_CHAOS_LOG: when its publish or insert returned. */
  readonly t?: number
  /** With RT_CHAOS_LOG: the hub it was published through. */
  readonly via?: string
}

/** Who a client is and what it asked for. */
export interface Audience {
  readonly user: string
  readonly topics: readonly string[]
  readonly types?: readonly string[] | undefined
}

/**
 * What a client saw, in order: events by source and number, and resets with the number of
 * publishes and inserts begun when it arrived (it can only excuse the loss of those).
 */
export type Seen = ({ readonly src: Source; readonly n: number } | { readonly reset: string; readonly at: number }) & {
  /** With RT_CHAOS_LOG: the event's id (a reset's: the client's position after it) and when it arrived. */
  readonly id?: string | undefined
  readonly t?: number
}

/** Totals over every client of a run. */
export interface Verdict {
  events: number
  resets: number
  lost: number
  duplicated: number
  leaked: number
  /** The first problems found, for the failure message. */
  problems: string[]
}

export const emptyVerdict = (): Verdict => ({ events: 0, resets: 0, lost: 0, duplicated: 0, leaked: 0, problems: [] })

export function maySee(audience: Audience, event: Sent): boolean {
  return (
    audience.topics.includes(event.topic) &&
    (event.to === undefined || event.to.includes(audience.user)) &&
    (audience.types === undefined || audience.types.length === 0 || audience.types.includes(event.type))
  )
}

/**
 * Judges one client into `verdict`. `accepted`: events whose publish (or insert)
 * succeeded; `maybe`: publishes that failed, which may have been logged anyway.
 */
export function judge(
  name: string,
  audience: Audience,
  seen: readonly Seen[],
  accepted: readonly Sent[],
  maybe: readonly Sent[],
  verdict: Verdict,
): void {
  const problem = (text: string) => {
    if (verdict.problems.length < 20) verdict.problems.push(`${name}: ${text}`)
  }
  const known = new Map<string, Sent>()
  for (const event of [...accepted, ...maybe]) known.set(`${event.src}:${event.n}`, event)
  const owed: Record<Source, number[]> = { app: [], db: [] }
  for (const event of accepted) if (maySee(audience, event)) owed[event.src].push(event.n)
  for (const list of Object.values(owed)) list.sort((a, b) => a - b)
  const seqOf = new Map<string, number>()
  for (const event of accepted) seqOf.set(`${event.src}:${event.n}`, event.seq)
  const last: Record<Source, number> = { app: -1, db: -1 }
  /** The latest reset since the previous event of each source: what it can excuse. */
  const excused: Record<Source, number> = { app: -1, db: -1 }
  // Events owed between the previous one received and `upTo` are lost unless a reset that
  // came in between arrived after they were published.
  const owedUntil = (src: Source, upTo: number) => {
    const missed = owed[src].filter((n) => n > last[src] && n < upTo && (seqOf.get(`${src}:${n}`) ?? 0) >= excused[src])
    if (missed.length > 0) {
      verdict.lost += missed.length
      problem(`${src} ${missed.slice(0, 5).join(',')}${missed.length > 5 ? '…' : ''} lost after ${last[src]}`)
    }
  }
  for (const item of seen) {
    if ('reset' in item) {
      verdict.resets++
      excused.app = Math.max(excused.app, item.at)
      excused.db = Math.max(excused.db, item.at)
      continue
    }
    const event = known.get(`${item.src}:${item.n}`)
    if (event === undefined || !maySee(audience, event)) {
      verdict.leaked++
      problem(
        `${item.src} ${item.n} is not for it (${event ? `${event.topic}/${event.type}/to ${event.to}` : 'unknown'})`,
      )
      continue
    }
    if (item.n <= last[item.src]) {
      verdict.duplicated++
      problem(`${item.src} ${item.n} after ${last[item.src]}: repeated or out of order`)
      continue
    }
    verdict.events++
    owedUntil(item.src, item.n)
    last[item.src] = item.n
    excused[item.src] = -1
  }
  owedUntil('app', Number.POSITIVE_INFINITY)
  owedUntil('db', Number.POSITIVE_INFINITY)
}
