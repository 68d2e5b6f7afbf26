/**
 * One open group: messages with their ticks, who is online and typing, and the composer.
 * Messages shown while the page is visible are marked read up to the newest one.
 * @module
 */
import { type FormEvent, useEffect, useLayoutEffect, useRef, useState } from 'react'
import { type GroupSummary, groupTopic, type MessagePage, type User } from '../shared/types.js'
import { Avatar } from './Avatar.js'
import { api } from './api.js'
import { type Conversation, type Tick, tickOf } from './chat-state.js'
import { Icon } from './Icon.js'
import { usePresence } from './realtime.js'

const TYPING_EVERY_MS = 2_000

function useVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible')
  useEffect(() => {
    const update = () => setVisible(document.visibilityState === 'visible')
    document.addEventListener('visibilitychange', update)
    return () => document.removeEventListener('visibilitychange', update)
  }, [])
  return visible
}

function TickMark({ tick }: { tick: Tick }) {
  const label = tick === 'read' ? 'Read' : tick === 'delivered' ? 'Delivered' : 'Sent'
  return (
    <span className={`tick ${tick}`} data-tick={tick} title={label} role="img" aria-label={label}>
      {tick === 'sent' ? '✓' : '✓✓'}
    </span>
  )
}

export function ConversationView(props: {
  me: User
  summary: GroupSummary
  conversation: Conversation | undefined
  typing: Readonly<Record<string, number>>
  onBack: () => void
  onOlder: (page: MessagePage) => void
}) {
  const { me, summary, conversation, typing } = props
  const groupId = summary.group.id
  const online = usePresence(groupTopic(groupId))
  const visible = useVisible()
  const [draft, setDraft] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [, tick] = useState(0)
  const lastTyping = useRef(0)
  const readSent = useRef(0)
  const scroller = useRef<HTMLDivElement>(null)
  const users = new Map(summary.users.map((u) => [u.id, u]))
  const nameOf = (id: string) => users.get(id)?.name ?? id

  const messages = conversation?.messages ?? []
  const members = conversation?.status === 'ready' ? conversation.members : summary.members
  const newest = messages.at(-1)?.seq ?? 0
  const ownRead = members.find((m) => m.userId === me.id)?.readSeq ?? 0

  // Read receipts come from here: the messages are on screen and the page is visible.
  useEffect(() => {
    if (conversation?.status !== 'ready' || !visible) return
    if (newest <= ownRead || newest <= readSent.current) return
    readSent.current = newest
    api.read(groupId, newest).catch(() => {
      readSent.current = 0
    })
  }, [conversation?.status, visible, newest, ownRead, groupId])

  useLayoutEffect(() => {
    const el = scroller.current
    if (el !== null && messages.length > 0) el.scrollTop = el.scrollHeight
  }, [messages.length])

  // Re-render when someone's typing expires.
  const typingNow = Object.entries(typing)
    .filter(([userId, until]) => userId !== me.id && until > Date.now())
    .map(([userId]) => nameOf(userId))
  useEffect(() => {
    if (typingNow.length === 0) return
    const timer = setTimeout(() => tick((n) => n + 1), 1_000)
    return () => clearTimeout(timer)
  })

  const send = (event: FormEvent) => {
    event.preventDefault()
    const text = draft.trim()
    if (text === '') return
    setDraft('')
    setError(null)
    // The message ends this typing for the others: the next keystroke announces anew.
    lastTyping.current = 0
    api.send(groupId, text).catch((e: Error) => {
      setDraft(text)
      setError(e.message)
    })
  }
  const onType = (value: string) => {
    setDraft(value)
    const now = Date.now()
    if (value.trim() !== '' && now - lastTyping.current > TYPING_EVERY_MS) {
      lastTyping.current = now
      api.typing(groupId).catch(() => {})
    }
  }
  const older = () => {
    const first = messages[0]
    if (first === undefined) return
    api.messages(groupId, first.seq).then(
      ({ data }) => props.onOlder(data),
      () => {},
    )
  }

  const others = summary.members.filter((m) => m.userId !== me.id)
  const onlineOthers = others.filter((m) => online.includes(m.userId))
  const status =
    typingNow.length > 0
      ? `${typingNow.join(', ')} ${typingNow.length === 1 ? 'is' : 'are'} typing…`
      : onlineOthers.length > 0
        ? `${onlineOthers.map((m) => nameOf(m.userId)).join(', ')} online`
        : `${summary.members.length} members`

  return (
    <section className="conversation" data-open-group={groupId}>
      <header className="conversation-header">
        <button type="button" className="icon back" onClick={props.onBack} aria-label="Back to groups">
          <Icon name="back" />
        </button>
        <Avatar name={summary.group.name} size={38} />
        <div className="conversation-title">
          <strong>{summary.group.name}</strong>
          <span className={typingNow.length > 0 ? 'status typing' : 'status'} data-status-line>
            {status}
          </span>
        </div>
        <ul className="members" aria-label="Members">
          {summary.members.map((m) => (
            <li
              key={m.userId}
              className="chip"
              title={`${nameOf(m.userId)} · ${m.role}${online.includes(m.userId) ? ' · online' : ''}`}
              data-member={m.userId}
              data-online={online.includes(m.userId) ? 'yes' : 'no'}
            >
              <Avatar name={nameOf(m.userId)} size={28} online={online.includes(m.userId)} />
            </li>
          ))}
        </ul>
      </header>
      <div className="messages" ref={scroller}>
        {conversation === undefined || conversation.status === 'loading' ? (
          <p className="muted center">Loading messages…</p>
        ) : conversation.status === 'error' ? (
          <p className="error center">Could not load the messages.</p>
        ) : (
          <>
            {conversation.more && (
              <button type="button" className="older" onClick={older}>
                Load older messages
              </button>
            )}
            {messages.length === 0 && <p className="muted center">No messages yet. Say hi!</p>}
            {messages.map((m, i) => {
              const own = m.senderId === me.id
              const first = messages[i - 1]?.senderId !== m.senderId
              return (
                <div
                  key={m.id}
                  className={`bubble-row ${own ? 'own' : ''} ${first ? 'first' : ''}`}
                  data-message={m.id}
                  data-seq={m.seq}
                >
                  <div className={`bubble ${m.deletedAt !== undefined ? 'deleted' : ''}`}>
                    {!own && first && <span className="sender">{nameOf(m.senderId)}</span>}
                    <span className="text">{m.deletedAt !== undefined ? 'This message was deleted' : m.text}</span>
                    <span className="meta">
                      <time>
                        {new Date(m.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
                      </time>
                      {own && m.deletedAt === undefined && <TickMark tick={tickOf(m, conversation.members, me.id)} />}
                    </span>
                  </div>
                </div>
              )
            })}
          </>
        )}
      </div>
      <form className="composer" onSubmit={send}>
        <input
          aria-label="Message"
          placeholder="Message"
          value={draft}
          maxLength={2000}
          onChange={(e) => onType(e.target.value)}
        />
        <button type="submit" className="primary send" aria-label="Send" disabled={draft.trim() === ''}>
          <Icon name="send" size={20} />
        </button>
      </form>
      {error !== null && <p className="error pad">{error}</p>}
    </section>
  )
}
