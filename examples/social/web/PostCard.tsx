/**
 * One post: the author, the text, likes, comments and a poll. While the card is on screen
 * it joins the post's topic (`post:<id>`, `useTopics`), so its counts, comments and poll
 * percentages move live for everyone looking at it, and it leaves when scrolled away.
 * @module
 */
import { type FormEvent, useEffect, useRef, useState } from 'react'
import {
  type CommentView,
  type PollResults,
  type PostView,
  type Profile,
  percentages,
  postTopic,
} from '../shared/types.js'
import { Avatar } from './Avatar.js'
import { api } from './api.js'
import { Icon } from './Icon.js'
import { useEvent, useTopics } from './realtime.js'
import { ago } from './time.js'

/** Whether the element is (near) the viewport. */
function useOnScreen(ref: React.RefObject<HTMLElement | null>): boolean {
  const [visible, setVisible] = useState(false)
  useEffect(() => {
    const element = ref.current
    if (element === null) return
    const observer = new IntersectionObserver(([entry]) => setVisible(entry?.isIntersecting === true), {
      rootMargin: '200px 0px',
    })
    observer.observe(element)
    return () => observer.disconnect()
  }, [ref])
  return visible
}

const NONE: readonly string[] = []

export function PostCard({ me, view }: { me: Profile; view: PostView }) {
  const { post, author } = view
  const card = useRef<HTMLElement>(null)
  const onScreen = useOnScreen(card)
  useTopics(onScreen ? [postTopic(post.id)] : NONE)

  const [likes, setLikes] = useState(view.likes)
  const [liked, setLiked] = useState(view.liked)
  const [comments, setComments] = useState<readonly CommentView[]>(view.comments)
  const [results, setResults] = useState<PollResults | null>(view.results)
  const [myVote, setMyVote] = useState<number | null>(view.myVote)
  const [open, setOpen] = useState(false)
  // A new snapshot of the feed (a reset, a follow) brings a new view: start from it.
  useEffect(() => {
    setLikes(view.likes)
    setLiked(view.liked)
    setComments(view.comments)
    setResults(view.results)
    setMyVote(view.myVote)
  }, [view])

  useEvent('post.likes', (data) => {
    if (data.postId === post.id) setLikes(data.likes)
  })
  useEvent('comment.new', (data) => {
    if (data.comment.postId !== post.id) return
    setComments((list) => (list.some((c) => c.comment.id === data.comment.id) ? list : [...list, data]))
  })
  useEvent('poll.results', (data) => {
    if (data.postId === post.id) setResults(data)
  })

  const like = () => {
    const next = !liked
    setLiked(next)
    void (next ? api.like(post.id) : api.unlike(post.id)).catch(() => setLiked(!next))
  }
  const vote = (option: number) => {
    setMyVote(option)
    void api.vote(post.id, option).catch(() => setMyVote(view.myVote))
  }

  return (
    <article className="card post" ref={card} data-post={post.id} data-author={author.id}>
      <header className="post-head">
        <Avatar name={author.name} size={40} />
        <span className="who">
          <strong>{author.name}</strong>
          <span className="muted small">
            @{author.handle} · {ago(post.createdAt)}
          </span>
        </span>
      </header>
      <p className="post-text">{post.text}</p>
      {post.poll !== undefined && results !== null && (
        <PollView
          question={post.poll.question}
          options={post.poll.options}
          results={results}
          myVote={myVote}
          onVote={vote}
        />
      )}
      <footer className="post-actions">
        <button
          type="button"
          className={liked ? 'action liked' : 'action'}
          aria-pressed={liked}
          onClick={like}
          data-like={likes}
        >
          <Icon name="heart" size={18} /> <span>{likes}</span>
        </button>
        <button
          type="button"
          className={open ? 'action on' : 'action'}
          aria-expanded={open}
          onClick={() => setOpen(!open)}
          data-comments={comments.length}
        >
          <Icon name="comment" size={18} /> <span>{comments.length}</span>
        </button>
      </footer>
      {open && <Comments me={me} postId={post.id} comments={comments} />}
    </article>
  )
}

function PollView(props: {
  question: string
  options: readonly string[]
  results: PollResults
  myVote: number | null
  onVote: (option: number) => void
}) {
  const percent = percentages(props.results)
  return (
    <div className="poll" data-poll-total={props.results.total}>
      <p className="poll-question">{props.question}</p>
      {props.options.map((option, i) => (
        <button
          // biome-ignore lint/suspicious/noArrayIndexKey: the options are positional
          key={i}
          type="button"
          className={props.myVote === i ? 'poll-option mine' : 'poll-option'}
          onClick={() => props.onVote(i)}
          data-option={i}
          data-percent={percent[i]}
          aria-pressed={props.myVote === i}
        >
          <span className="poll-bar" style={{ width: `${percent[i]}%` }} />
          <span className="poll-label">{option}</span>
          <span className="poll-percent">{percent[i]}%</span>
        </button>
      ))}
      <p className="muted small">
        {props.results.total} {props.results.total === 1 ? 'vote' : 'votes'}
        {props.myVote === null ? ' · tap to vote' : ' · you voted'}
      </p>
    </div>
  )
}

function Comments({ me, postId, comments }: { me: Profile; postId: string; comments: readonly CommentView[] }) {
  const [text, setText] = useState('')
  const [error, setError] = useState<string | null>(null)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (text.trim() === '') return
    api.comment(postId, text).then(
      () => setText(''),
      (e: Error) => setError(e.message),
    )
  }
  return (
    <div className="comments">
      <ul>
        {comments.map(({ comment, author }) => (
          <li key={comment.id} data-comment={comment.id}>
            <Avatar name={author.name} size={28} />
            <span className="bubble">
              <strong>{author.name}</strong> {comment.text}
            </span>
          </li>
        ))}
      </ul>
      <form className="row-form" onSubmit={submit}>
        <Avatar name={me.name} size={28} />
        <input
          aria-label="Write a comment"
          placeholder="Write a comment…"
          value={text}
          maxLength={300}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="primary small" disabled={text.trim() === ''}>
          Reply
        </button>
      </form>
      {error !== null && <p className="error small">{error}</p>}
    </div>
  )
}
