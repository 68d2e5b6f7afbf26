/**
 * The chat's client state: the group list and the open conversations, from snapshots plus
 * the events of the shared connection. Events that arrive while a conversation's snapshot
 * loads are held and applied after it; applying is idempotent (by id, by sequence, receipts
 * only move forward), so the snapshot and the events never race.
 * @module
 */
import type { ChatEvents, GroupSummary, Member, Message, MessagePage } from '../shared/types.js'

export type ChatEvent = { [K in keyof ChatEvents]: { type: K; data: ChatEvents[K] } }[keyof ChatEvents]

export interface Conversation {
  readonly status: 'loading' | 'ready' | 'error'
  readonly messages: readonly Message[]
  readonly members: readonly Member[]
  readonly more: boolean
  /** Events received while the snapshot loads. */
  readonly held: readonly ChatEvent[]
}

export interface ChatState {
  readonly groups: readonly GroupSummary[] | null
  readonly conversations: Readonly<Record<string, Conversation>>
  /** Per group, who is typing until when (ms since the epoch). */
  readonly typing: Readonly<Record<string, Readonly<Record<string, number>>>>
}

export type ChatAction =
  | { type: 'groups'; groups: readonly GroupSummary[] }
  | { type: 'loading'; groupId: string }
  | { type: 'loaded'; page: MessagePage }
  | { type: 'older'; page: MessagePage }
  | { type: 'failed'; groupId: string }
  | { type: 'event'; event: ChatEvent; now: number }
  | { type: 'forget' }

export const initialChat: ChatState = { groups: null, conversations: {}, typing: {} }

const TYPING_MS = 4_000

function upsertMessage(list: readonly Message[], message: Message): readonly Message[] {
  const at = list.findIndex((m) => m.id === message.id)
  if (at >= 0) return list.map((m, i) => (i === at ? message : m))
  const next = [...list, message]
  return next.sort((a, b) => a.seq - b.seq)
}

function upsertMember(list: readonly Member[], member: Member): readonly Member[] {
  return list.some((m) => m.userId === member.userId)
    ? list.map((m) => (m.userId === member.userId ? member : m))
    : [...list, member]
}

function moveReceipts(list: readonly Member[], r: ChatEvents['receipt']): readonly Member[] {
  return list.map((m) =>
    m.userId === r.userId
      ? { ...m, deliveredSeq: Math.max(m.deliveredSeq, r.deliveredSeq), readSeq: Math.max(m.readSeq, r.readSeq) }
      : m,
  )
}

/** One event applied to one open conversation. */
function applyToConversation(c: Conversation, event: ChatEvent): Conversation {
  switch (event.type) {
    case 'message.new':
      return { ...c, messages: upsertMessage(c.messages, event.data) }
    case 'message.deleted':
      return {
        ...c,
        messages: c.messages.map((m) => (m.id === event.data.id ? { ...m, text: '', deletedAt: m.deletedAt ?? 1 } : m)),
      }
    case 'receipt':
      return { ...c, members: moveReceipts(c.members, event.data) }
    case 'member.added':
      return { ...c, members: upsertMember(c.members, event.data.member) }
    case 'member.removed':
      return { ...c, members: c.members.filter((m) => m.userId !== event.data.userId) }
    case 'member.role':
      return {
        ...c,
        members: c.members.map((m) => (m.userId === event.data.userId ? { ...m, role: event.data.role } : m)),
      }
    default:
      return c
  }
}

function groupOf(event: ChatEvent): string | undefined {
  const data = event.data as { groupId?: string; id?: string; member?: Member }
  if (event.type === 'group.updated') return data.id
  if (event.type === 'member.added') return data.member?.groupId
  return data.groupId
}

function applyToSummary(s: GroupSummary, event: ChatEvent): GroupSummary | null {
  switch (event.type) {
    case 'message.new': {
      const last = s.lastMessage
      return last !== null && last.seq >= event.data.seq ? s : { ...s, lastMessage: event.data }
    }
    case 'message.deleted':
      return s.lastMessage?.id === event.data.id
        ? { ...s, lastMessage: { ...s.lastMessage, text: '', deletedAt: 1 } }
        : s
    case 'receipt':
      return { ...s, members: moveReceipts(s.members, event.data) }
    case 'member.added':
      return {
        ...s,
        members: upsertMember(s.members, event.data.member),
        users: s.users.some((u) => u.id === event.data.user.id) ? s.users : [...s.users, event.data.user],
      }
    case 'member.removed':
      return { ...s, members: s.members.filter((m) => m.userId !== event.data.userId) }
    case 'member.role':
      return {
        ...s,
        members: s.members.map((m) => (m.userId === event.data.userId ? { ...m, role: event.data.role } : m)),
      }
    case 'group.updated':
      return { ...s, group: event.data }
    case 'group.deleted':
    case 'membership.removed':
      return null
    default:
      return s
  }
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'groups':
      return { ...state, groups: action.groups }
    case 'forget':
      return { ...state, conversations: {} }
    case 'loading':
      return {
        ...state,
        conversations: {
          ...state.conversations,
          [action.groupId]: { status: 'loading', messages: [], members: [], more: false, held: [] },
        },
      }
    case 'loaded': {
      const held = state.conversations[action.page.groupId]?.held ?? []
      let c: Conversation = {
        status: 'ready',
        messages: action.page.messages,
        members: action.page.members,
        more: action.page.more,
        held: [],
      }
      for (const event of held) c = applyToConversation(c, event)
      return { ...state, conversations: { ...state.conversations, [action.page.groupId]: c } }
    }
    case 'older': {
      const c = state.conversations[action.page.groupId]
      if (c === undefined) return state
      let messages = c.messages
      for (const m of action.page.messages) messages = upsertMessage(messages, m)
      return {
        ...state,
        conversations: { ...state.conversations, [action.page.groupId]: { ...c, messages, more: action.page.more } },
      }
    }
    case 'failed': {
      const c = state.conversations[action.groupId]
      if (c === undefined) return state
      return { ...state, conversations: { ...state.conversations, [action.groupId]: { ...c, status: 'error' } } }
    }
    case 'event':
      return applyEvent(state, action.event, action.now)
  }
}

function applyEvent(state: ChatState, event: ChatEvent, now: number): ChatState {
  const groupId = groupOf(event)
  if (groupId === undefined) return state
  if (event.type === 'typing') {
    const current = state.typing[groupId] ?? {}
    return {
      ...state,
      typing: { ...state.typing, [groupId]: { ...current, [event.data.userId]: now + TYPING_MS } },
    }
  }
  let next = state
  if (state.groups !== null) {
    const groups = state.groups.flatMap((s) => {
      if (s.group.id !== groupId) return [s]
      const updated = applyToSummary(s, event)
      return updated === null ? [] : [updated]
    })
    next = { ...next, groups: sortByActivity(groups) }
  }
  const c = next.conversations[groupId]
  if (c !== undefined) {
    const updated = c.status === 'loading' ? { ...c, held: [...c.held, event] } : applyToConversation(c, event)
    next = { ...next, conversations: { ...next.conversations, [groupId]: updated } }
  }
  if (event.type === 'message.new') {
    // A message ends its sender's typing.
    const typing = next.typing[groupId]
    if (typing?.[event.data.senderId] !== undefined) {
      const { [event.data.senderId]: _, ...rest } = typing
      next = { ...next, typing: { ...next.typing, [groupId]: rest } }
    }
  }
  return next
}

function sortByActivity(groups: readonly GroupSummary[]): readonly GroupSummary[] {
  const latest = (s: GroupSummary) => s.lastMessage?.createdAt ?? s.group.createdAt
  return [...groups].sort((a, b) => latest(b) - latest(a))
}

/** Messages after the member's read position. */
export function unreadOf(summary: GroupSummary, me: string): number {
  const own = summary.members.find((m) => m.userId === me)
  return Math.max(0, (summary.lastMessage?.seq ?? 0) - (own?.readSeq ?? 0))
}

export type Tick = 'sent' | 'delivered' | 'read'

/** WhatsApp's rule for groups: delivered once every other member's client has it, read once every one read it. */
export function tickOf(message: Message, members: readonly Member[], me: string): Tick {
  const others = members.filter((m) => m.userId !== me)
  if (others.length > 0 && others.every((m) => m.readSeq >= message.seq)) return 'read'
  if (others.length > 0 && others.every((m) => m.deliveredSeq >= message.seq)) return 'delivered'
  return 'sent'
}
