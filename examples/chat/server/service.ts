/**
 * The chat's rules: who may do what in a group, what a message, a receipt and a
 * notification are. Talks to repositories only; it never publishes events itself, since
 * every write reaches the hub as a change (see `events.ts`).
 * @module
 */
import type {
  Group,
  GroupSummary,
  Member,
  Message,
  MessagePage,
  Notification,
  NotificationKind,
  NotificationPage,
  Role,
  User,
} from '../shared/types.js'
import { ChatError } from './errors.js'
import { newId, type Repositories } from './repos/types.js'
import { slug, text } from './validate.js'

const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 }

export const LIMITS = {
  message: 2_000,
  groupName: 80,
  description: 280,
  userName: 40,
  membersPerGroup: 256,
  pageSize: 100,
  /** Accounts the dev login creates at most: a name nobody has past it is refused. */
  users: 1_000,
} as const

export interface ChatService {
  readonly repos: Repositories
  login(name: string): Promise<User>
  /** The user for a session, recreated when the store forgot it (in-memory restart). */
  ensureUser(id: string, name: string): Promise<User>
  users(): Promise<User[]>
  isMember(groupId: string, userId: string): Promise<boolean>
  groups(userId: string): Promise<GroupSummary[]>
  group(userId: string, groupId: string): Promise<GroupSummary>
  /** `id` is for seed data only, so a restarted in-memory server keeps its groups' ids. */
  createGroup(
    actor: string,
    input: { name: unknown; description?: unknown; members: readonly string[]; id?: string },
  ): Promise<Group>
  updateGroup(actor: string, groupId: string, input: { name?: unknown; description?: unknown }): Promise<Group>
  deleteGroup(actor: string, groupId: string): Promise<void>
  addMember(actor: string, groupId: string, userId: string): Promise<Member>
  removeMember(actor: string, groupId: string, userId: string): Promise<void>
  setRole(actor: string, groupId: string, userId: string, role: unknown): Promise<Member>
  messages(actor: string, groupId: string, limit: number, beforeSeq?: number): Promise<MessagePage>
  send(actor: string, groupId: string, text: unknown): Promise<Message>
  deleteMessage(actor: string, groupId: string, messageId: string): Promise<void>
  /** The reader's UI showed messages up to `seq`. */
  markRead(actor: string, groupId: string, seq: number): Promise<void>
  /** The user's client acknowledged messages up to `seq` (from `hub.onAck`). */
  markDelivered(userId: string, groupId: string, seq: number): Promise<void>
  /** Throws unless `actor` may say they are typing in the group. */
  checkTyping(actor: string, groupId: string): Promise<void>
  notifications(actor: string, limit: number, before?: string): Promise<NotificationPage>
  readNotification(actor: string, id: string): Promise<void>
  readAllNotifications(actor: string): Promise<number>
  deleteNotification(actor: string, id: string): Promise<void>
}

export interface ChatServiceOptions {
  readonly now?: () => number
  /** @default LIMITS.users */
  readonly maxUsers?: number
}

export function createChatService(repos: Repositories, options: ChatServiceOptions = {}): ChatService {
  const { now = Date.now, maxUsers = LIMITS.users } = options
  async function liveGroup(groupId: string): Promise<Group> {
    const group = await repos.groups.get(groupId)
    if (group === null || group.deletedAt !== undefined) throw new ChatError('not_found', 'no such group')
    return group
  }

  /** The actor's membership, or 403: a non-member learns nothing about the group. */
  async function membership(actor: string, groupId: string, least: Role = 'member'): Promise<Member> {
    const group = await repos.groups.get(groupId)
    const member = group === null || group.deletedAt !== undefined ? null : await repos.members.get(groupId, actor)
    if (member === null) throw new ChatError('forbidden', 'you are not a member of this group')
    if (RANK[member.role] < RANK[least]) throw new ChatError('forbidden', `only a group ${least} may do that`)
    return member
  }

  async function notify(
    userIds: Iterable<string>,
    kind: NotificationKind,
    body: string,
    extra: { groupId?: string; actorId?: string } = {},
  ): Promise<void> {
    const at = now()
    for (const userId of new Set(userIds)) {
      const notification: Notification = { id: newId(at), userId, kind, text: body, createdAt: at, ...extra }
      await repos.notifications.insert(notification)
    }
  }

  async function nameOf(userId: string): Promise<string> {
    return (await repos.users.get(userId))?.name ?? userId
  }

  async function summary(userId: string, group: Group): Promise<GroupSummary | null> {
    const members = await repos.members.list(group.id)
    const own = members.find((m) => m.userId === userId)
    if (own === undefined) return null
    const [users, last, lastSeq] = await Promise.all([
      repos.users.many(members.map((m) => m.userId)),
      repos.messages.page(group.id, 1),
      repos.messages.lastSeq(group.id),
    ])
    return {
      group,
      role: own.role,
      members,
      users,
      lastMessage: last.messages[0] ?? null,
      unread: Math.max(0, lastSeq - own.readSeq),
    }
  }

  const service: ChatService = {
    repos,

    async login(name) {
      const clean = text(name, 'name', 1, LIMITS.userName)
      const id = slug(clean)
      const known = await repos.users.get(id)
      // The dev login makes an account per new name: bounded, so a script cannot grow the store.
      if (known === null && (await repos.users.list()).length >= maxUsers) {
        throw new ChatError('forbidden', `this demo holds at most ${maxUsers} users: log in as one of them`)
      }
      return repos.users.upsert({ id, name: known?.name ?? clean })
    },

    async ensureUser(id, name) {
      return (await repos.users.get(id)) ?? repos.users.upsert({ id, name })
    },

    users: () => repos.users.list(),

    async isMember(groupId, userId) {
      const group = await repos.groups.get(groupId)
      if (group === null || group.deletedAt !== undefined) return false
      return (await repos.members.get(groupId, userId)) !== null
    },

    async groups(userId) {
      const memberships = await repos.members.listByUser(userId)
      const out: GroupSummary[] = []
      for (const m of memberships) {
        const group = await repos.groups.get(m.groupId)
        if (group === null || group.deletedAt !== undefined) continue
        const one = await summary(userId, group)
        if (one !== null) out.push(one)
      }
      const latest = (s: GroupSummary) => s.lastMessage?.createdAt ?? s.group.createdAt
      return out.sort((a, b) => latest(b) - latest(a))
    },

    async group(userId, groupId) {
      await membership(userId, groupId)
      const one = await summary(userId, await liveGroup(groupId))
      if (one === null) throw new ChatError('forbidden', 'you are not a member of this group')
      return one
    },

    async createGroup(actor, input) {
      const name = text(input.name, 'name', 1, LIMITS.groupName)
      const description =
        input.description === undefined ? '' : text(input.description, 'description', 0, LIMITS.description)
      const others = [...new Set(input.members)].filter((id) => id !== actor)
      if (others.length + 1 > LIMITS.membersPerGroup) {
        throw new ChatError('bad_request', `a group has at most ${LIMITS.membersPerGroup} members`)
      }
      const known = await repos.users.many(others)
      if (known.length !== others.length) throw new ChatError('bad_request', 'unknown user in members')
      const at = now()
      const group: Group = { id: input.id ?? newId(at), name, description, createdBy: actor, createdAt: at }
      await repos.groups.insert(group)
      const join = (userId: string, role: Role): Member => ({
        groupId: group.id,
        userId,
        role,
        joinedAt: at,
        deliveredSeq: 0,
        readSeq: 0,
      })
      await repos.members.insert(join(actor, 'owner'))
      for (const userId of others) await repos.members.insert(join(userId, 'member'))
      const who = await nameOf(actor)
      await notify(others, 'added_to_group', `${who} added you to ${name}`, { groupId: group.id, actorId: actor })
      return group
    },

    async updateGroup(actor, groupId, input) {
      await membership(actor, groupId, 'admin')
      const patch: { name?: string; description?: string } = {}
      if (input.name !== undefined) patch.name = text(input.name, 'name', 1, LIMITS.groupName)
      if (input.description !== undefined) {
        patch.description = text(input.description, 'description', 0, LIMITS.description)
      }
      if (Object.keys(patch).length === 0) throw new ChatError('bad_request', 'nothing to change')
      const group = await repos.groups.update(groupId, patch)
      if (group === null) throw new ChatError('not_found', 'no such group')
      const others = (await repos.members.list(groupId)).map((m) => m.userId).filter((id) => id !== actor)
      await notify(others, 'group_updated', `${await nameOf(actor)} updated ${group.name}`, { groupId, actorId: actor })
      return group
    },

    async deleteGroup(actor, groupId) {
      await membership(actor, groupId, 'owner')
      const group = await repos.groups.update(groupId, { deletedAt: now() })
      const others = (await repos.members.list(groupId)).map((m) => m.userId).filter((id) => id !== actor)
      await notify(others, 'group_deleted', `${await nameOf(actor)} deleted ${group?.name ?? 'a group'}`, {
        actorId: actor,
      })
    },

    async addMember(actor, groupId, userId) {
      await membership(actor, groupId, 'admin')
      const group = await liveGroup(groupId)
      if ((await repos.users.get(userId)) === null) throw new ChatError('not_found', 'no such user')
      if ((await repos.members.get(groupId, userId)) !== null) throw new ChatError('conflict', 'already a member')
      const count = (await repos.members.list(groupId)).length
      if (count >= LIMITS.membersPerGroup) throw new ChatError('conflict', 'the group is full')
      // Joins at the present: earlier messages count as read, so no unread backlog.
      const seq = await repos.messages.lastSeq(groupId)
      const member: Member = { groupId, userId, role: 'member', joinedAt: now(), deliveredSeq: seq, readSeq: seq }
      await repos.members.insert(member)
      const who = await nameOf(actor)
      await notify([userId], 'added_to_group', `${who} added you to ${group.name}`, { groupId, actorId: actor })
      return member
    },

    async removeMember(actor, groupId, userId) {
      const self = actor === userId
      const acting = await membership(actor, groupId, self ? 'member' : 'admin')
      const target = self ? acting : await repos.members.get(groupId, userId)
      if (target === null) throw new ChatError('not_found', 'not a member')
      if (target.role === 'owner') {
        throw new ChatError(
          'conflict',
          self ? 'the owner cannot leave; delete the group instead' : 'the owner cannot be removed',
        )
      }
      if (!self && RANK[target.role] >= RANK[acting.role]) {
        throw new ChatError('forbidden', 'only the owner may remove an admin')
      }
      await repos.members.remove(groupId, userId)
      const group = await liveGroup(groupId)
      if (self) {
        const admins = (await repos.members.list(groupId)).filter((m) => m.role !== 'member').map((m) => m.userId)
        await notify(admins, 'member_left', `${await nameOf(actor)} left ${group.name}`, { groupId, actorId: actor })
      } else {
        await notify([userId], 'removed_from_group', `${await nameOf(actor)} removed you from ${group.name}`, {
          actorId: actor,
        })
      }
    },

    async setRole(actor, groupId, userId, role) {
      await membership(actor, groupId, 'owner')
      if (role !== 'admin' && role !== 'member') throw new ChatError('bad_request', 'role must be "admin" or "member"')
      if (userId === actor) throw new ChatError('conflict', 'the owner keeps their role')
      const member = await repos.members.setRole(groupId, userId, role)
      if (member === null) throw new ChatError('not_found', 'not a member')
      const group = await liveGroup(groupId)
      await notify(
        [userId],
        'role_changed',
        `You are now ${role === 'admin' ? 'an admin' : 'a member'} of ${group.name}`,
        {
          groupId,
          actorId: actor,
        },
      )
      return member
    },

    async messages(actor, groupId, limit, beforeSeq) {
      await membership(actor, groupId)
      const [page, members] = await Promise.all([
        repos.messages.page(groupId, limit, beforeSeq),
        repos.members.list(groupId),
      ])
      return { groupId, messages: page.messages, members, more: page.more }
    },

    async send(actor, groupId, body) {
      await membership(actor, groupId)
      const clean = text(body, 'text', 1, LIMITS.message)
      const message = await repos.messages.insert({ groupId, senderId: actor, text: clean, createdAt: now() })
      // The sender has read what they wrote.
      await repos.members.advance(groupId, actor, { deliveredSeq: message.seq, readSeq: message.seq })
      const mentioned = await mentions(clean, groupId, actor)
      if (mentioned.length > 0) {
        const group = await liveGroup(groupId)
        const excerpt = clean.length > 80 ? `${clean.slice(0, 77)}…` : clean
        await notify(mentioned, 'mention', `${await nameOf(actor)} in ${group.name}: ${excerpt}`, {
          groupId,
          actorId: actor,
        })
      }
      return message
    },

    async deleteMessage(actor, groupId, messageId) {
      const acting = await membership(actor, groupId)
      const message = await repos.messages.get(groupId, messageId)
      if (message === null || message.deletedAt !== undefined) throw new ChatError('not_found', 'no such message')
      const own = message.senderId === actor
      if (!own && acting.role === 'member') throw new ChatError('forbidden', 'only admins delete messages of others')
      await repos.messages.markDeleted(groupId, messageId, now())
      if (!own) {
        const group = await liveGroup(groupId)
        await notify(
          [message.senderId],
          'message_deleted',
          `${await nameOf(actor)} deleted your message in ${group.name}`,
          {
            groupId,
            actorId: actor,
          },
        )
      }
    },

    async markRead(actor, groupId, seq) {
      await membership(actor, groupId)
      const last = await repos.messages.lastSeq(groupId)
      const upTo = Math.min(seq, last)
      // Read implies delivered, even when the ack is still on its way.
      await repos.members.advance(groupId, actor, { deliveredSeq: upTo, readSeq: upTo })
    },

    async markDelivered(userId, groupId, seq) {
      // An ack is a claim: only members move receipts, and never past the last message.
      if (!(await service.isMember(groupId, userId))) return
      const last = await repos.messages.lastSeq(groupId)
      await repos.members.advance(groupId, userId, { deliveredSeq: Math.min(seq, last) })
    },

    async checkTyping(actor, groupId) {
      await membership(actor, groupId)
    },

    async notifications(actor, limit, before) {
      const [page, unread] = await Promise.all([
        repos.notifications.page(actor, limit, before),
        repos.notifications.unread(actor),
      ])
      return { items: page.items, unread, more: page.more }
    },

    async readNotification(actor, id) {
      if ((await repos.notifications.get(actor, id)) === null) throw new ChatError('not_found', 'no such notification')
      await repos.notifications.markRead(actor, id, now())
    },

    readAllNotifications: (actor) => repos.notifications.markAllRead(actor, now()),

    async deleteNotification(actor, id) {
      if (!(await repos.notifications.remove(actor, id))) throw new ChatError('not_found', 'no such notification')
    },
  }

  /** Members named as `@name` or `@id` in a message, other than its sender. */
  async function mentions(body: string, groupId: string, sender: string): Promise<string[]> {
    const tags = new Set([...body.matchAll(/@([\p{L}\p{N}_-]+)/gu)].map((m) => (m[1] as string).toLowerCase()))
    if (tags.size === 0) return []
    const members = await repos.members.list(groupId)
    const users = await repos.users.many(members.map((m) => m.userId))
    return users
      .filter((u) => u.id !== sender && (tags.has(u.id) || tags.has(u.name.toLowerCase().split(/\s+/)[0] ?? '')))
      .map((u) => u.id)
  }

  return service
}
