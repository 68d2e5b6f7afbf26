/**
 * The health document served by `healthHandler` in the node and fetch entries.
 * @module
 */
import type { HubStats } from './types.js'

/** What a health probe receives. */
export interface HealthReport extends HubStats {
  /** `ok`; `degraded` when a source failed or the log's service is down; `closed` once the hub is closing. */
  readonly status: 'ok' | 'degraded' | 'closed'
}

/** The hub's stats with an overall status and the HTTP status to answer with. */
export function healthReport(hub: { stats(): HubStats }): { status: number; report: HealthReport } {
  const stats = hub.stats()
  const degraded = stats.sources.some((s) => s.state === 'failed') || stats.log?.state === 'degraded'
  const status = stats.closed ? 'closed' : degraded ? 'degraded' : 'ok'
  return { status: status === 'ok' ? 200 : 503, report: { status, ...stats } }
}
