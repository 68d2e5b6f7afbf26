/**
 * The chat shell: the group list and the open conversation, fed by one shared connection.
 * A reset from the server (it restarted, or the position is too old) refetches everything;
 * a reconnect does not, since the stream resumes where it stopped.
 * @module
 */
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react'
import { type ChatEvents, groupTopic, type User } from '../shared/types.js'
import { Avatar } from './Avatar.js'
import { api } from './api.js'
import { ConnectionBadge } from './ConnectionBadge.js'
import { ConversationView } from './Conversation.js'
import { type ChatEvent, chatReducer, initialChat, unreadOf } from './chat-state.js'
import { Icon } from './Icon.js'
import { Inbox } from './Inbox.js'
import { NewGroup } from './NewGroup.js'
import { useEvent, useRealtime, useTopics } from './realtime.js'

const EVENT_TYPES: readonly (keyof ChatEvents)[] = [
  'message.new',
  'message.deleted',
  'receipt',
  'member.added',
  'member.removed',
  'member.role',
  'group.updated',
  'group.deleted',
  'typing',
  'membership.removed',
]

function timeOf(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
}

export function Chat({ me, onLogout }: { me: User; onLogout: () => void }) {
  const [state, dispatch] = useReducer(chatReducer, initialChat)
  const [openId, setOpenId] = useState<string | null>(null)
  const [creating, setCreating] = useState(false)
  const rt = useRealtime()
  const openRef = useRef(openId)
  openRef.current = openId

  const loadGroups = useCallback(() => {
    api.groups().then(
      ({ data }) => dispatch({ type: 'groups', groups: data }),
      () => {},
    )
  }, [])
  const loadConversation = useCallback((groupId: string) => {
    dispatch({ type: 'loading', groupId })
    api.messages(groupId).then(
      ({ data }) => dispatch({ type: 'loaded', page: data }),
      () => dispatch({ type: 'failed', groupId }),
    )
  }, [])

  useEffect(loadGroups, [loadGroups])
  // Every group's topic on the shared connection: messages are acked (delivered) as they
  // arrive, whether or not the group is open.
  const topics = useMemo(() => (state.groups ?? []).map((g) => groupTopic(g.group.id)).sort(), [state.groups])
  useTopics(topics)

  useEffect(() => {
    const offs = EVENT_TYPES.map((type) =>
      rt.on(type, (data: unknown) => dispatch({ type: 'event', event: { type, data } as ChatEvent, now: Date.now() })),
    )
    return () => {
      for (const off of offs) off()
    }
  }, [rt])
  useEvent('membership.added', loadGroups)
  useEffect(
    () =>
      rt.onState(() => {
        // Refused for good (a 403: removed from a group while away): the fresh list drops
        // that topic, and the provider starts a new connection for the new set.
        if (rt.state === 'closed') loadGroups()
      }),
    [rt, loadGroups],
  )
  useEvent('reset', () => {
    // The server cannot continue from our position: start over from fresh snapshots.
    dispatch({ type: 'forget' })
    loadGroups()
    if (openRef.current !== null) loadConversation(openRef.current)
  })
  useEffect(() => {
    // Back online: reconnect now rather than after the backoff.
    const online = () => rt.client?.reconnect()
    window.addEventListener('online', online)
    return () => window.removeEventListener('online', online)
  }, [rt])

  const open = state.groups?.find((g) => g.group.id === openId) ?? null
  const select = (groupId: string) => {
    setOpenId(groupId)
    if (state.conversations[groupId] === undefined) loadConversation(groupId)
  }

  return (
    <div className={`app ${open === null ? 'list-view' : 'conversation-view'}`}>
      <aside className="sidebar">
        <header className="sidebar-header">
          <div className="me">
            <Avatar name={me.name} size={36} />
            <div>
              <strong data-me={me.id}>{me.name}</strong>
              <ConnectionBadge />
            </div>
          </div>
          <div className="header-actions">
            <Inbox me={me} onOpenGroup={select} />
            <button type="button" className="icon" title="New group" onClick={() => setCreating(true)}>
              <Icon name="plus" />
            </button>
            <button type="button" className="icon" title="Log out" onClick={onLogout}>
              <Icon name="logout" size={20} />
            </button>
          </div>
        </header>
        {state.groups === null ? (
          <p className="muted pad">Loading groups…</p>
        ) : state.groups.length === 0 ? (
          <p className="muted pad">No groups yet. Start one with the + button.</p>
        ) : (
          <ul className="group-list">
            {state.groups.map((summary) => {
              const unread = unreadOf(summary, me.id)
              const last = summary.lastMessage
              const sender = summary.users.find((u) => u.id === last?.senderId)
              const typing = Object.entries(state.typing[summary.group.id] ?? {}).some(
                ([userId, until]) => userId !== me.id && until > Date.now(),
              )
              return (
                <li key={summary.group.id}>
                  <button
                    type="button"
                    className={summary.group.id === openId ? 'group-item active' : 'group-item'}
                    onClick={() => select(summary.group.id)}
                    data-group={summary.group.id}
                  >
                    <Avatar name={summary.group.name} />
                    <span className="group-text">
                      <span className="group-line">
                        <strong>{summary.group.name}</strong>
                        {last !== null && <time>{timeOf(last.createdAt)}</time>}
                      </span>
                      <span className="group-line">
                        <span className="preview">
                          {typing ? (
                            <em className="typing">typing…</em>
                          ) : last === null ? (
                            'No messages yet'
                          ) : last.deletedAt !== undefined ? (
                            <em>Message deleted</em>
                          ) : (
                            `${last.senderId === me.id ? 'You' : (sender?.name ?? last.senderId)}: ${last.text}`
                          )}
                        </span>
                        {unread > 0 && (
                          <span className="badge" data-unread={unread}>
                            {unread}
                          </span>
                        )}
                      </span>
                    </span>
                  </button>
                </li>
              )
            })}
          </ul>
        )}
      </aside>
      <main className="main">
        {open === null ? (
          <div className="empty">
            <p>Pick a group to start chatting.</p>
            <p className="muted">Messages, receipts, presence and notifications arrive live over one stream.</p>
          </div>
        ) : (
          <ConversationView
            key={open.group.id}
            me={me}
            summary={open}
            conversation={state.conversations[open.group.id]}
            typing={state.typing[open.group.id] ?? {}}
            onBack={() => setOpenId(null)}
            onOlder={(page) => dispatch({ type: 'older', page })}
          />
        )}
      </main>
      {creating && (
        <NewGroup
          me={me}
          onClose={() => setCreating(false)}
          onCreated={(groupId) => {
            setCreating(false)
            loadGroups()
            select(groupId)
          }}
        />
      )}
    </div>
  )
}
