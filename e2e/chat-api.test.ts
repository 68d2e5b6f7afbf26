/**
 * The chat example's server over real HTTP: the dev login, who may subscribe to what,
 * receipts that move only on acks and reads, the notification inbox, and membership
 * changes reaching exactly the right users.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type {
  GroupSummary,
  Member,
  Message,
  MessagePage,
  NotificationPage,
  Snapshot,
} from '../examples/chat/shared/types.js'
import { type ChatServer, startChatServer } from './support/chat.js'
import { appEvents, type SseStream } from './support/sse.js'

let server: ChatServer
let alice: string
let bob: string
let carol: string
let hike: string

beforeEach(async () => {
  server = await startChatServer()
  alice = await server.login('Alice')
  bob = await server.login('Bob')
  carol = await server.login('Carol')
  const groups = await server.call<Snapshot<GroupSummary[]>>(alice, 'GET', '/api/groups')
  hike = (groups.body.data.find((g) => g.group.name === 'Weekend hike') as GroupSummary).group.id
})
afterEach(async () => {
  await server.close()
  expect(server.errors).toEqual([])
})

const connected = (s: SseStream) => s.until((events) => events.some((e) => e.event === 'rt.connected'))
const ofType = (s: SseStream, type: string) => appEvents(s.events).filter((e) => e.type === type)

async function send(cookie: string, groupId: string, text: string): Promise<Message> {
  const res = await server.call<{ message: Message }>(cookie, 'POST', `/api/groups/${groupId}/messages`, { text })
  expect(res.status).toBe(201)
  return res.body.message
}

async function members(cookie: string, groupId: string): Promise<Member[]> {
  const res = await server.call<Snapshot<MessagePage>>(cookie, 'GET', `/api/groups/${groupId}/messages`)
  expect(res.status).toBe(200)
  return [...res.body.data.members]
}

describe('login', () => {
  test('a signed cookie is a session; a missing or tampered one is not', async () => {
    const me = await server.call<{ user: { id: string; name: string } }>(alice, 'GET', '/api/me')
    expect(me).toEqual({ status: 200, body: { user: { id: 'alice', name: 'Alice' } } })
    expect((await server.call(null, 'GET', '/api/me')).status).toBe(401)
    const [payload] = alice.split('.')
    const forged = `${Buffer.from(JSON.stringify({ u: 'bob', n: 'Bob' })).toString('base64url')}.${alice.split('.')[1]}`
    expect(payload).not.toBe(forged.split('.')[0])
    expect((await server.call(forged.replace(/^[^=]*=/, 'chat_session='), 'GET', '/api/me')).status).toBe(401)
    expect((await server.stream(null, 'topics=user:alice')).status).toBe(401)
    expect((await server.call(null, 'POST', '/api/login', { name: '   ' })).status).toBe(400)
  })
})

describe('authorization (a non-member never sees a group)', () => {
  test('carol gets 403 for the group topic, another user topic, and every mix of them, on both transports', async () => {
    const refused = [
      `topics=group:${hike}`,
      `topics=user:carol,group:${hike}`,
      'topics=user:alice',
      `topics=group:${hike}&transport=poll&timeout=0`,
      'topics=group:no-such-group',
      'topics=anything',
    ]
    for (const query of refused) {
      const stream = await server.stream(carol, query)
      expect([query, stream.status]).toEqual([query, 403])
    }
    // Her own topic is fine.
    expect((await server.stream(carol, 'topics=user:carol')).status).toBe(200)
    // The REST API says the same.
    expect((await server.call(carol, 'GET', `/api/groups/${hike}/messages`)).status).toBe(403)
    expect((await server.call(carol, 'POST', `/api/groups/${hike}/messages`, { text: 'hi' })).status).toBe(403)
    expect((await server.call(carol, 'POST', `/api/groups/${hike}/typing`)).status).toBe(403)
    expect((await server.call(carol, 'POST', `/api/groups/${hike}/read`, { seq: 99 })).status).toBe(403)
  })

  test('no topic, type, resume or ack trick shows carol a message of the group or moves its receipts', async () => {
    const origin = (await server.call<Snapshot<unknown>>(carol, 'GET', '/api/notifications')).body.cursor as string
    // Every type, from before the message, on her own topic; and a member's stream to compare.
    const own = await server.stream(carol, 'topics=user:carol&presence=1')
    const typed = await server.stream(carol, 'topics=user:carol&types=message.new,typing,receipt')
    const bobs = await server.stream(bob, `topics=group:${hike}`)
    await Promise.all([connected(own), connected(typed), connected(bobs)])
    const secret = await send(alice, hike, 'the secret meeting point is the old mill')
    await server.call(alice, 'POST', `/api/groups/${hike}/typing`)
    await bobs.until((events) => appEvents(events).some((e) => e.type === 'typing'))
    const logId = ofType(bobs, 'message.new')[0]?.id as string
    expect(logId).toBeTypeOf('string')

    // Replays from before the message, over SSE and long-poll.
    const replay = await server.stream(carol, 'topics=user:carol', { lastEventId: origin })
    await connected(replay)
    const poll = await server.call<{ events: { type: string; data: unknown }[] }>(
      carol,
      'GET',
      `/events?topics=user:carol&transport=poll&timeout=0&lastEventId=${encodeURIComponent(origin)}`,
    )
    expect(poll.status).toBe(200)

    // Carol claims she received it.
    const ack = await fetch(`${server.origin}/events`, {
      method: 'POST',
      headers: { cookie: carol, 'content-type': 'application/json' },
      body: JSON.stringify({ ack: [logId] }),
    })
    expect(ack.status).toBe(204)

    // A member's stream got it (so the check below can fail), carol's did not.
    expect(ofType(bobs, 'message.new').map((e) => (e.data as Message).text)).toEqual([secret.text])
    const seen = [...own.events, ...typed.events, ...replay.events].map((e) => e.data).join('\n')
    expect(seen).not.toContain(secret.text)
    expect(seen).not.toContain(hike)
    expect(JSON.stringify(poll.body.events)).not.toContain(hike)
    expect((await members(alice, hike)).map((m) => m.userId)).not.toContain('carol')
    // And alice's receipts list no delivery to anyone from that ack.
    const carolsAck = (await members(alice, hike)).find((m) => m.userId === 'bob')?.deliveredSeq as number
    expect(carolsAck).toBeLessThan(secret.seq)
  })

  test('a removed member stops receiving the group at once and cannot subscribe again', async () => {
    const bobs = await server.stream(bob, `topics=group:${hike},user:bob`)
    await connected(bobs)
    expect((await server.call(alice, 'DELETE', `/api/groups/${hike}/members/bob`)).status).toBe(204)
    await bobs.until((events) => appEvents(events).some((e) => e.type === 'membership.removed'))
    const after = await send(alice, hike, 'now without bob')
    // Dave is still a member and sees it: by then bob's stream would have it too.
    const daves = await server.stream(await server.login('Dave'), `topics=group:${hike}`, {
      lastEventId: bobs.lastEventId as string,
    })
    await daves.until((events) => appEvents(events).some((e) => e.type === 'message.new'))
    expect(ofType(bobs, 'message.new').map((e) => (e.data as Message).text)).not.toContain(after.text)
    expect((await server.stream(bob, `topics=group:${hike}`)).status).toBe(403)
    expect((await server.stream(bob, `topics=group:${hike}`, { lastEventId: bobs.lastEventId as string })).status).toBe(
      403,
    )
  })
})

describe('receipts', () => {
  test('sent -> delivered only when the client acks -> read only when the reader marks it read', async () => {
    const bobs = await server.stream(bob, `topics=group:${hike}`)
    const alices = await server.stream(alice, `topics=group:${hike}`)
    await Promise.all([connected(bobs), connected(alices)])
    const message = await send(alice, hike, 'tick tock')
    await bobs.until((events) => appEvents(events).some((e) => e.type === 'message.new'))
    // Written to bob's socket, read by his stream, not acknowledged: still only sent.
    const bobOf = async () => (await members(alice, hike)).find((m) => m.userId === 'bob') as Member
    const sent = await bobOf()
    expect(sent.deliveredSeq).toBeLessThan(message.seq)
    expect(sent.readSeq).toBeLessThan(message.seq)

    const logId = ofType(bobs, 'message.new')[0]?.id as string
    const ack = await fetch(`${server.origin}/events`, {
      method: 'POST',
      headers: { cookie: bob, 'content-type': 'application/json' },
      body: JSON.stringify({ ack: [logId] }),
    })
    expect(ack.status).toBe(204)
    await alices.until((events) =>
      appEvents(events).some((e) => e.type === 'receipt' && (e.data as Member).userId === 'bob'),
    )
    expect(await bobOf()).toMatchObject({ deliveredSeq: message.seq, readSeq: sent.readSeq })

    expect((await server.call(bob, 'POST', `/api/groups/${hike}/read`, { seq: message.seq })).status).toBe(204)
    await alices.until((events) =>
      appEvents(events).some(
        (e) =>
          e.type === 'receipt' && (e.data as Member).userId === 'bob' && (e.data as Member).readSeq === message.seq,
      ),
    )
    expect(await bobOf()).toMatchObject({ deliveredSeq: message.seq, readSeq: message.seq })
    // Reading past the end is clamped; reading again writes nothing new.
    await server.call(bob, 'POST', `/api/groups/${hike}/read`, { seq: 10_000 })
    expect((await bobOf()).readSeq).toBe(message.seq)
    expect((await server.call(bob, 'POST', `/api/groups/${hike}/read`, { seq: -1 })).status).toBe(400)
  })
})

describe('notifications', () => {
  test('a mention raises the unread count live; read, read all and delete lower it; pages do not overlap', async () => {
    const inbox = async () => (await server.call<Snapshot<NotificationPage>>(bob, 'GET', '/api/notifications')).body
    const bobs = await server.stream(bob, 'topics=user:bob')
    await connected(bobs)
    const before = (await inbox()).data.unread
    await send(alice, hike, '@bob bring the map please')
    await send(alice, hike, 'and @Bob the compass')
    await bobs.until((events) => appEvents(events).filter((e) => e.type === 'notification.new').length === 2)
    const news = ofType(bobs, 'notification.new').map((e) => e.data as { unread: number; notification: { id: string } })
    expect(news.map((n) => n.unread)).toEqual([before + 1, before + 2])
    const snapshot = await inbox()
    expect(snapshot.data.unread).toBe(before + 2)
    expect(snapshot.cursor).toBe(bobs.lastEventId)

    const first = news[0]?.notification.id as string
    expect((await server.call(bob, 'POST', `/api/notifications/${first}/read`)).status).toBe(204)
    await bobs.until((events) => appEvents(events).some((e) => e.type === 'notification.read'))
    expect((await inbox()).data.unread).toBe(before + 1)
    // Nobody else may read or delete bob's notifications.
    expect((await server.call(alice, 'POST', `/api/notifications/${first}/read`)).status).toBe(404)
    expect((await server.call(alice, 'DELETE', `/api/notifications/${first}`)).status).toBe(404)

    expect((await server.call(bob, 'POST', '/api/notifications/read-all')).status).toBe(200)
    await bobs.until((events) =>
      appEvents(events).some((e) => e.type === 'notification.read' && (e.data as { unread: number }).unread === 0),
    )
    expect((await inbox()).data.unread).toBe(0)

    const second = news[1]?.notification.id as string
    expect((await server.call(bob, 'DELETE', `/api/notifications/${second}`)).status).toBe(204)
    await bobs.until((events) => appEvents(events).some((e) => e.type === 'notification.deleted'))
    const all = (await inbox()).data.items.map((n) => n.id)
    expect(all).not.toContain(second)

    // Pagination: two at a time, newest first, no overlap, the whole inbox.
    const paged: string[] = []
    let before_: string | undefined
    for (;;) {
      const query = before_ === undefined ? '?limit=2' : `?limit=2&before=${before_}`
      const page = (await server.call<Snapshot<NotificationPage>>(bob, 'GET', `/api/notifications${query}`)).body.data
      paged.push(...page.items.map((n) => n.id))
      if (!page.more) break
      before_ = page.items.at(-1)?.id
    }
    expect(paged).toEqual(all)
    expect(paged.length).toBeGreaterThan(2)
    expect([...paged].sort().reverse()).toEqual(paged)
  })
})

describe('membership and group events', () => {
  test('each event reaches exactly the users it concerns', async () => {
    const erin = await server.login('Erin')
    const streams = {
      alice: await server.stream(alice, `topics=group:${hike},user:alice`),
      bob: await server.stream(bob, `topics=group:${hike},user:bob`),
      erin: await server.stream(erin, 'topics=user:erin'),
      carol: await server.stream(carol, 'topics=user:carol'),
    }
    await Promise.all(Object.values(streams).map(connected))
    expect((await server.call(alice, 'POST', `/api/groups/${hike}/members`, { userId: 'erin' })).status).toBe(201)
    await streams.erin.until((events) => appEvents(events).some((e) => e.type === 'membership.added'))
    // Erin now subscribes to the group as its client would after membership.added.
    const erins = await server.stream(erin, `topics=group:${hike}`)
    expect(erins.status).toBe(200)
    await connected(erins)
    expect((await server.call(alice, 'PATCH', `/api/groups/${hike}/members/bob`, { role: 'admin' })).status).toBe(200)
    expect((await server.call(bob, 'PATCH', `/api/groups/${hike}`, { name: 'Sunday hike' })).status).toBe(200)
    // Bob is an admin, not the owner: he may not delete the group.
    expect((await server.call(bob, 'DELETE', `/api/groups/${hike}`)).status).toBe(403)
    expect((await server.call(alice, 'DELETE', `/api/groups/${hike}`)).status).toBe(204)
    for (const name of ['alice', 'bob'] as const) {
      await streams[name].until((events) => appEvents(events).some((e) => e.type === 'group.deleted'))
      expect(ofType(streams[name], 'member.added').map((e) => (e.data as { user: { id: string } }).user.id)).toEqual([
        'erin',
      ])
      expect(ofType(streams[name], 'member.role').map((e) => e.data)).toEqual([
        { groupId: hike, userId: 'bob', role: 'admin' },
      ])
      expect(ofType(streams[name], 'group.updated').map((e) => (e.data as { name: string }).name)).toEqual([
        'Sunday hike',
      ])
    }
    await erins.until((events) => appEvents(events).some((e) => e.type === 'group.deleted'))
    expect(ofType(streams.carol, 'member.added')).toEqual([])
    expect(appEvents(streams.carol.events).filter((e) => e.type !== 'notification.new')).toEqual([])
    // Deleted: gone for everyone.
    expect((await server.stream(alice, `topics=group:${hike}`)).status).toBe(403)
    const groups = await server.call<Snapshot<GroupSummary[]>>(alice, 'GET', '/api/groups')
    expect(groups.body.data.map((g) => g.group.id)).not.toContain(hike)
  })

  test('bad input gets 400 with a message, never a crash', async () => {
    const bad = [
      ['POST', `/api/groups/${hike}/messages`, { text: '' }],
      ['POST', `/api/groups/${hike}/messages`, { text: 'x'.repeat(2_001) }],
      ['POST', `/api/groups/${hike}/messages`, { text: 42 }],
      ['GET', `/api/groups/${hike}/messages?limit=0`, undefined],
      ['GET', `/api/groups/${hike}/messages?limit=1e3`, undefined],
      ['GET', `/api/groups/${hike}/messages?before=abc`, undefined],
      ['GET', '/api/groups/..%2F..%2Fetc/messages', undefined],
      ['POST', '/api/groups', { name: 'x', members: ['no such user'] }],
      ['PATCH', `/api/groups/${hike}/members/bob`, { role: 'owner' }],
    ] as const
    for (const [method, path, body] of bad) {
      const res = await server.call<{ error?: { message: string } }>(alice, method, path, body)
      expect([method, path, res.status]).toEqual([method, path, 400])
      expect(res.body.error?.message).toBeTypeOf('string')
    }
    const raw = await fetch(`${server.origin}/api/groups/${hike}/messages`, {
      method: 'POST',
      headers: { cookie: alice, 'content-type': 'application/json' },
      body: '{not json',
    })
    expect(raw.status).toBe(400)
  })
})

test('the dev login creates accounts up to its cap, then refuses new names with 403 (known ones still log in)', async () => {
  // Five seeded users: room for one new name.
  const capped = await startChatServer({ maxUsers: 6 })
  try {
    const attempt = (name: string) => capped.call<{ error?: { message: string } }>(null, 'POST', '/api/login', { name })
    expect((await attempt('Frank')).status).toBe(200)
    const refused = await attempt('Grace')
    expect(refused.status).toBe(403)
    expect(refused.body.error?.message).toBe('this demo holds at most 6 users: log in as one of them')
    expect((await attempt('Frank')).status).toBe(200)
    expect((await attempt('Alice')).status).toBe(200)
    expect((await capped.chat.service.users()).length).toBe(6)
  } finally {
    await capped.close()
  }
})
