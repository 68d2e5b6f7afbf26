/**
 * The home feed: live state from a snapshot (`GET /api/feed` with its log position) and
 * every `post.new` after it, applied once; the composer on top.
 * @module
 */
import { type FormEvent, useEffect, useState } from 'react'
import { FEED, type Poll, type PostView, type Profile } from '../shared/types.js'
import { Avatar } from './Avatar.js'
import { api } from './api.js'
import { Icon } from './Icon.js'
import { FOLLOWS_CHANGED } from './People.js'
import { PostCard } from './PostCard.js'
import { useLiveState } from './realtime.js'

/** A new post on top, once: events just after the snapshot's cursor may already be in it. */
export function addPost(feed: readonly PostView[], view: PostView): PostView[] {
  if (feed.some((p) => p.post.id === view.post.id)) return [...feed]
  return [view, ...feed]
}

export function Feed({ me }: { me: Profile }) {
  const feed = useLiveState<PostView[], 'post.new'>({
    key: ['feed', me.id],
    topics: [FEED],
    types: ['post.new'],
    snapshot: () => api.feed(),
    apply: (state, event) => addPost(state, event.data),
  })
  const { refetch } = feed
  useEffect(() => {
    window.addEventListener(FOLLOWS_CHANGED, refetch)
    return () => window.removeEventListener(FOLLOWS_CHANGED, refetch)
  }, [refetch])
  return (
    <main className="feed" data-feed-status={feed.status}>
      <Composer me={me} />
      {feed.status === 'loading' && <p className="muted pad">Loading your feed…</p>}
      {feed.status === 'error' && (
        <p className="error pad">
          Could not load the feed.{' '}
          <button type="button" className="link" onClick={feed.refetch}>
            Retry
          </button>
        </p>
      )}
      {feed.data?.length === 0 && <p className="muted pad">Nothing yet. Follow someone from People.</p>}
      <ul className="posts">
        {(feed.data ?? []).map((view) => (
          <li key={view.post.id}>
            <PostCard me={me} view={view} />
          </li>
        ))}
      </ul>
    </main>
  )
}

function Composer({ me }: { me: Profile }) {
  const [text, setText] = useState('')
  const [poll, setPoll] = useState<{ question: string; options: string[] } | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (text.trim() === '' || busy) return
    const sent: Poll | undefined =
      poll === null ? undefined : { question: poll.question, options: poll.options.filter((o) => o.trim() !== '') }
    setBusy(true)
    setError(null)
    api.createPost(text, sent).then(
      () => {
        setText('')
        setPoll(null)
        setBusy(false)
      },
      (e: Error) => {
        setError(e.message)
        setBusy(false)
      },
    )
  }
  return (
    <form className="card composer" onSubmit={submit}>
      <div className="composer-row">
        <Avatar name={me.name} size={40} />
        <textarea
          aria-label="What's happening?"
          placeholder={`What's happening, ${me.name.split(' ')[0]}?`}
          value={text}
          maxLength={500}
          rows={2}
          onChange={(e) => setText(e.target.value)}
        />
      </div>
      {poll !== null && (
        <div className="poll-editor">
          <input
            aria-label="Poll question"
            placeholder="Ask a question"
            value={poll.question}
            maxLength={140}
            onChange={(e) => setPoll({ ...poll, question: e.target.value })}
          />
          {poll.options.map((option, i) => (
            <input
              // biome-ignore lint/suspicious/noArrayIndexKey: the options are positional
              key={i}
              aria-label={`Option ${i + 1}`}
              placeholder={`Option ${i + 1}`}
              value={option}
              maxLength={60}
              onChange={(e) =>
                setPoll({ ...poll, options: poll.options.map((o, j) => (j === i ? e.target.value : o)) })
              }
            />
          ))}
          {poll.options.length < 4 && (
            <button type="button" className="link" onClick={() => setPoll({ ...poll, options: [...poll.options, ''] })}>
              + Add an option
            </button>
          )}
        </div>
      )}
      <div className="composer-actions">
        <button
          type="button"
          className={poll === null ? 'ghost' : 'ghost on'}
          onClick={() => setPoll(poll === null ? { question: '', options: ['', ''] } : null)}
          aria-pressed={poll !== null}
        >
          <Icon name="poll" size={18} /> Poll
        </button>
        {error !== null && <span className="error small">{error}</span>}
        <button type="submit" className="primary" disabled={busy || text.trim() === ''}>
          Post
        </button>
      </div>
    </form>
  )
}
