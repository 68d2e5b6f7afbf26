/**
 * Everyone else, with a follow button: following someone puts their next posts in your
 * feed (the server computes each post's recipients from the followers when it maps it).
 * @module
 */
import { useCallback, useEffect, useState } from 'react'
import { Avatar } from './Avatar.js'
import { api, type PersonView } from './api.js'

/** Fired on `window` after the user followed or unfollowed someone. */
export const FOLLOWS_CHANGED = 'social:follows-changed'

export function People({ compact = false }: { compact?: boolean }) {
  const [people, setPeople] = useState<PersonView[] | null>(null)
  const load = useCallback(() => {
    api.people().then(
      ({ people }) => setPeople(people),
      () => setPeople([]),
    )
  }, [])
  useEffect(load, [load])
  if (people === null) return <p className="muted small">Loading…</p>
  const toggle = (person: PersonView) => {
    const id = person.profile.id
    void (person.following ? api.unfollow(id) : api.follow(id)).then(() => {
      load()
      // The feed holds their earlier posts too (or no longer): it takes a new snapshot.
      window.dispatchEvent(new Event(FOLLOWS_CHANGED))
    })
  }
  return (
    <ul className="people">
      {people.map((person) => (
        <li key={person.profile.id} data-person={person.profile.id}>
          <Avatar name={person.profile.name} size={36} />
          <span className="who">
            <strong>{person.profile.name}</strong>
            <span className="muted small">
              {person.followers} {person.followers === 1 ? 'follower' : 'followers'}
            </span>
            {!compact && person.profile.bio !== '' && <span className="small">{person.profile.bio}</span>}
          </span>
          <button
            type="button"
            className={person.following ? 'ghost' : 'primary'}
            onClick={() => toggle(person)}
            data-follow={person.following ? 'following' : 'follow'}
          >
            {person.following ? 'Following' : 'Follow'}
          </button>
        </li>
      ))}
    </ul>
  )
}
