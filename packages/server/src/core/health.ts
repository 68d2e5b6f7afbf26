/**
 * The health document served by `healthHandler` in the node and fetch entries.
 * @module
 */
import type { HubStats, SourceStatus } from './types.js'

/** Options of `healthHandler`. */
export interface HealthOptions {
  /**
   * Adds streams per topic and per user id, and the text of source failures. Probes are
   * usually mounted without auth: turn this on only where the answer is not public.
   * @default false
   */
  readonly details?: boolean | undefined
}

/** What a health probe receives: counts, and with `details` what they are made of. */
export interface HealthReport extends Omit<HubStats, 'topics' | 'users' | 'sources'> {
  /** `ok`; `degraded` when a source failed or the log's service is down; `closed` once the hub is closing. */
  readonly status: 'ok' | 'degraded' | 'closed'
  /** Open streams per topic; only with `details`. */
  readonly topics?: Readonly<Record<string, number>> | undefined
  /** Open streams per user id; only with `details`. */
  readonly users?: Readonly<Record<string, number>> | undefined
  /** Each source's state; its `error` text only with `details`. */
  readonly sources: ReadonlyArray<{ readonly name: string } & SourceStatus>
}

/** The hub's stats with an overall status and the HTTP status to answer with. */
export function healthReport(
  hub: { stats(): HubStats },
  options: HealthOptions = {},
): { status: number; report: HealthReport } {
  const { topics, users, sources, ...counts } = hub.stats()
  const degraded = sources.some((s) => s.state === 'failed') || counts.log?.state === 'degraded'
  const status = counts.closed ? 'closed' : degraded ? 'degraded' : 'ok'
  const report: HealthReport =
    options.details === true
      ? { status, ...counts, topics, users, sources }
      : { status, ...counts, sources: sources.map(({ error: _error, ...source }) => source) }
  return { status: status === 'ok' ? 200 : 503, report }
}
