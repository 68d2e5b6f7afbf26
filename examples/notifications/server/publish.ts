/**
 * In-memory mode's source: the store's feed of inserts, mapped and published one at a
 * time, in write order.
 * @module
 */
import type { Hub, Identity } from '@rt/server'
import type { NotificationEvents } from '../shared/types.js'
import { eventsOf } from './events.js'
import type { Store } from './repos/types.js'

export function publishInserts(
  store: Store,
  hub: Hub<NotificationEvents, Identity>,
  onError: (error: unknown) => void,
): () => Promise<void> {
  if (store.onInsert === undefined) throw new Error('publishInserts needs a store with a feed of inserts')
  let queue: Promise<void> = Promise.resolve()
  const stop = store.onInsert((doc) => {
    queue = queue.then(async () => {
      try {
        for (const event of await eventsOf(doc, store)) await hub.publish(event)
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
