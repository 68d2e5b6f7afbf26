/**
 * Turns an inserted notification into the events it means: one `notification.new` per
 * recipient, on the recipient's own topic and addressed to them alone. The in-memory
 * store's feed and MongoDB's change stream both go through this one function.
 * @module
 */
import type { PublishInput } from '@rt/server'
import { type NotificationDoc, type NotificationEvents, userTopic } from '../shared/types.js'
import type { Store } from './repos/types.js'

export type AppEvent = PublishInput<NotificationEvents>

/** The events of one inserted notification: a role's notification fans out to its users. */
export async function eventsOf(doc: NotificationDoc, store: Store): Promise<AppEvent[]> {
  const recipients =
    'userId' in doc.to
      ? [await store.users.get(doc.to.userId)].filter((u) => u !== null)
      : await store.users.withRole(doc.to.role)
  const events: AppEvent[] = []
  for (const user of recipients) {
    // Counted when mapped: the last event of a burst carries the final count.
    const unread = await store.notifications.unread(user)
    events.push({
      type: 'notification.new',
      topic: userTopic(user.id),
      to: [user.id],
      data: { notification: doc, unread },
    })
  }
  return events
}
