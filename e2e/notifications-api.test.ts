/**
 * The notifications example's server over real HTTP (the built Next.js app as its own
 * process): who may subscribe to what, who may send and read, and bad input, each answered
 * with its status before any stream opens.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildIfChanged } from '../examples/notifications/server/build.js'
import {
  type NotificationsProcess,
  send,
  sessionOf,
  startNotificationsProcess,
} from './support/notifications-process.js'
import { openSse } from './support/sse.js'

let app: NotificationsProcess
let alice: string
let bob: string
let admin: string
beforeAll(async () => {
  await buildIfChanged(join(import.meta.dirname, '..', 'examples', 'notifications'), () => {})
  app = await startNotificationsProcess()
  alice = await sessionOf(app.origin, 'alice')
  bob = await sessionOf(app.origin, 'bob')
  admin = await sessionOf(app.origin, 'ada')
}, 180_000)
afterAll(() => app?.stop())

const post = (path: string, cookie: string | undefined, body: unknown, type = 'application/json') =>
  fetch(`${app.origin}${path}`, {
    method: 'POST',
    headers: { ...(cookie === undefined ? {} : { cookie }), 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    redirect: 'manual',
  })

test("streams: 401 without a session or with a forged one, 403 for another user's topic, 200 for your own", async () => {
  const none = await fetch(`${app.origin}/events?topics=user:alice`)
  expect(none.status).toBe(401)
  await none.body?.cancel()
  const [payload] = alice.split('=')[1]?.split('.') ?? []
  const forged = await fetch(`${app.origin}/events?topics=user:alice`, {
    headers: { cookie: `notif_session=${payload}.${'A'.repeat(43)}` },
  })
  expect(forged.status).toBe(401)
  await forged.body?.cancel()
  for (const topics of ['user:bob', 'user:alice,user:bob', 'role:engineering']) {
    const res = await fetch(`${app.origin}/events?topics=${topics}`, { headers: { cookie: alice } })
    expect(res.status, topics).toBe(403)
    await res.body?.cancel()
  }
  const poll = await fetch(`${app.origin}/events?topics=user:bob&transport=poll`, { headers: { cookie: alice } })
  expect(poll.status).toBe(403)
  const own = await openSse(`${app.origin}/events?topics=user:alice`, { headers: { cookie: alice } })
  expect(own.status).toBe(200)
  own.close()
})

test('sending: admins only, validated; reading: only your own notifications', async () => {
  const body = { title: 'Hello', to: { userId: 'bob' } }
  expect((await post('/api/notifications', undefined, body)).status).toBe(401)
  expect((await post('/api/notifications', alice, body)).status).toBe(403)
  for (const bad of [
    { title: '', to: { userId: 'bob' } },
    { title: 'x'.repeat(121), to: { userId: 'bob' } },
    { title: 'Hi', to: { userId: 'bob', role: 'support' } },
    { title: 'Hi', to: { role: 'owners' } },
    { title: 'Hi', level: 'panic', to: { userId: 'bob' } },
    { title: 'Hi\u0000', to: { userId: 'bob' } },
  ]) {
    const res = await post('/api/notifications', admin, bad)
    expect(res.status, JSON.stringify(bad)).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_request')
  }
  expect((await post('/api/notifications', admin, { title: 'Hi', to: { userId: 'nobody' } })).status).toBe(404)
  expect((await post('/api/notifications', admin, '{not json')).status).toBe(400)
  expect((await post('/api/notifications', admin, body, 'text/plain')).status).toBe(400)
  expect((await post('/api/notifications', admin, { title: 'x'.repeat(20_000), to: body.to })).status).toBe(400)

  const id = await send(app.origin, admin, body)
  // Alice cannot read (or learn about) Bob's notification; Bob can.
  expect((await post('/api/notifications/read', alice, { ids: [id] })).status).toBe(404)
  expect((await post('/api/notifications/read', bob, { ids: ['../etc'] })).status).toBe(400)
  expect((await post('/api/notifications/read', bob, { ids: [] })).status).toBe(400)
  expect((await post('/api/notifications/read', bob, { ids: [id] })).status).toBe(204)
  const snapshot = (await (await fetch(`${app.origin}/api/notifications`, { headers: { cookie: bob } })).json()) as {
    data: { items: { id: string; readAt?: number }[] }
    cursor: string
  }
  expect(snapshot.data.items.find((n) => n.id === id)?.readAt).toBeGreaterThan(0)
  expect(typeof snapshot.cursor).toBe('string')
  expect((await fetch(`${app.origin}/api/notifications`)).status).toBe(401)
  // The dev login: an unknown user or a bad body is refused, and nothing errors.
  expect((await post('/api/login', undefined, 'userId=nobody', 'application/x-www-form-urlencoded')).status).toBe(404)
  expect((await post('/api/login', undefined, 'x'.repeat(5_000), 'application/x-www-form-urlencoded')).status).toBe(400)
  expect(app.output()).not.toMatch(/notifications: .*Error/)
})
