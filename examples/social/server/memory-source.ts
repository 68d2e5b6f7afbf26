/**
 * In-memory mode's change source: the store's recorded changes as a hub `Source`, with a
 * position kept outside the source (like a change stream's token store). Stopped and
 * started again, a new source resumes after the last change it logged, so nothing written
 * meanwhile is lost; each event's key is derived from the change's sequence number, so a
 * change read twice is logged once.
 * @module
 */
import type { Source, SourceContext, SourceStatus } from '@rt/server'
import { FEED, type SocialEvents } from '../shared/types.js'
import type { SocialEvent } from './events.js'
import type { ChangeFeed } from './repos/memory.js'
import type { Change } from './repos/types.js'

/** Where a memory source stopped; give the same one to the next source to resume. */
export interface Position {
  seq: number
}

export interface MemorySourceOptions {
  readonly name: string
  readonly changes: ChangeFeed
  readonly position: Position
  readonly map: (change: Change) => Promise<SocialEvent[]>
}

export function memoryChangeSource(options: MemorySourceOptions): Source<SocialEvents> {
  const { changes, position, map } = options
  const status: { state: SourceStatus['state']; lastEventAt?: number; lagMs?: number; error?: string } = {
    state: 'stopped',
  }
  let context: SourceContext<SocialEvents> | null = null
  let off: (() => void) | null = null
  let running: Promise<void> = Promise.resolve()
  let again = false

  async function drain(ctx: SourceContext<SocialEvents>): Promise<void> {
    const pending = changes.since(position.seq)
    if (pending === null) {
      // Older changes were dropped while stopped: say so instead of skipping silently.
      await ctx.reset(FEED, 'history_lost')
      position.seq = changes.head()
      return
    }
    for (const { seq, change } of pending) {
      if (context !== ctx) return
      const events = await map(change)
      for (let i = 0; i < events.length; i++) {
        await ctx.publish({ ...(events[i] as SocialEvent), key: `${options.name}:${seq}:${i}` })
      }
      if (events.length > 0) status.lastEventAt = Date.now()
      position.seq = seq
    }
    status.lagMs = 0
  }

  /** One drain at a time; a change recorded during one triggers another after it. */
  function kick(ctx: SourceContext<SocialEvents>): void {
    if (again) return
    again = true
    running = running.then(async () => {
      again = false
      try {
        await drain(ctx)
      } catch (error) {
        status.state = 'failed'
        status.error = error instanceof Error ? error.message : String(error)
        ctx.reportError(error)
      }
    })
  }

  return {
    name: options.name,
    async start(ctx) {
      context = ctx
      status.state = 'running'
      status.error = undefined
      off = changes.onChange(() => kick(ctx))
      kick(ctx)
      await running
    },
    async stop() {
      off?.()
      off = null
      context = null
      await running
      status.state = 'stopped'
    },
    status: () => ({ ...status }),
  }
}
