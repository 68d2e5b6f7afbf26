/**
 * The user's notifications: likes, comments and follows, as they happen.
 * @module
 */
import type { Notification } from '../shared/types.js'
import { Avatar } from './Avatar.js'
import { ago } from './time.js'

const VERB: Record<Notification['kind'], string> = { like: 'like', comment: 'comment', follow: 'follow' }

export function Activity({ items }: { items: readonly Notification[] }) {
  if (items.length === 0) {
    return <p className="muted small">Likes, comments and new followers show up here the moment they happen.</p>
  }
  return (
    <ul className="activity">
      {items.map((n) => (
        <li key={n.id} data-notification={n.kind}>
          <Avatar name={n.actor.name} size={32} />
          <span className="activity-text">
            <span>{n.text}</span>
            <span className="muted small">
              {VERB[n.kind]} · {ago(n.at)}
            </span>
          </span>
        </li>
      ))}
    </ul>
  )
}
