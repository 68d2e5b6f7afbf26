/**
 * In-memory mode: the store's own change feed is the event source. Each change is mapped
 * and published in the order it was written, one at a time.
 * @module
 */
import type { Hub, Identity } from '@rt/server'
import type { ChatEvents } from '../shared/types.js'
import { eventsOf } from './events.js'
import type { Repositories } from './repos/types.js'

export function publishChanges(
  repos: Repositories,
  hub: Hub<ChatEvents, Identity>,
  onError: (error: unknown) => void,
): () => Promise<void> {
  if (repos.onChange === undefined) throw new Error('publishChanges needs a store with a change feed')
  let queue: Promise<void> = Promise.resolve()
  const stop = repos.onChange((change) => {
    queue = queue.then(async () => {
      try {
        for (const event of await eventsOf(change, repos)) await hub.publish(event)
      } catch (error) {
        onError(error)
      }
    })
  })
  return async () => {
    stop()
    await queue
  }
}
