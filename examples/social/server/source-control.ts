/**
 * The admin's switch for the change source: `stop()` detaches it from the hub (the
 * function `hub.attach` returned), `start()` attaches a new one made with the same token
 * store, so it resumes where the last one stopped. Every state it goes through is kept
 * (attach, detach, and what `hub.stats().sources` reports, checked twice a second) and
 * reported to the `admin` topic.
 * @module
 */
import type { Hub, Identity, Source } from '@rt/server'
import type { SocialEvents, SourceReport, SourceState } from '../shared/types.js'

export interface SourceControl {
  start(): Promise<void>
  stop(): Promise<void>
  report(): SourceReport
  close(): Promise<void>
}

export interface SourceControlOptions {
  readonly hub: Hub<SocialEvents, Identity>
  readonly name: string
  readonly mode: SourceReport['mode']
  /** A new source over the same position (token store). */
  readonly make: () => Source<SocialEvents>
  /** Called with the report whenever the state changes. */
  readonly onChange?: (report: SourceReport) => void
  /** @default 500 */
  readonly checkMs?: number
}

const KEPT = 50

export function sourceControl(options: SourceControlOptions): SourceControl {
  const { hub, name } = options
  const history: { state: SourceState; at: number }[] = []
  let detach: (() => Promise<void>) | null = null
  let queue: Promise<void> = Promise.resolve()
  let closed = false

  function report(): SourceReport {
    const stats = hub.stats()
    const found = detach === null ? undefined : stats.sources.find((s) => s.name === name)
    return {
      name,
      mode: options.mode,
      state: detach === null ? 'stopped' : (found?.state ?? 'starting'),
      lagMs: found?.lagMs ?? null,
      lastEventAt: found?.lastEventAt ?? null,
      error: found?.error ?? null,
      history: [...history],
      connections: stats.connections,
      published: stats.published,
    }
  }

  function observe(): void {
    const now = report()
    if (history.at(-1)?.state === now.state) return
    history.push({ state: now.state, at: Date.now() })
    if (history.length > KEPT) history.splice(0, history.length - KEPT)
    options.onChange?.({ ...now, history: [...history] })
  }

  const timer = setInterval(observe, options.checkMs ?? 500)
  timer.unref?.()

  /** One switch at a time. */
  const serial = (run: () => Promise<void>) => {
    const next = queue.then(run)
    queue = next.catch(() => {})
    return next
  }

  return {
    start: () =>
      serial(async () => {
        if (detach !== null || closed) return
        history.push({ state: 'starting', at: Date.now() })
        detach = await hub.attach(options.make())
        observe()
      }),
    stop: () =>
      serial(async () => {
        const running = detach
        if (running === null) return
        detach = null
        await running()
        observe()
      }),
    report,
    async close() {
      closed = true
      clearInterval(timer)
      await queue
      const running = detach
      detach = null
      await running?.()
    },
  }
}
