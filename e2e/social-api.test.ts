/**
 * The social example's server over real HTTP: who may subscribe to what (403 before any
 * stream opens), bad input answered with 400 and a message, the mapper's recipients and
 * its batched profile load, and the admin's stop / start losing nothing.
 */
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createSocialApp, type SocialApp } from '../examples/social/server/app.js'
import { eventsOf } from '../examples/social/server/events.js'
import { memoryChangeSource } from '../examples/social/server/memory-source.js'
import { memoryStore } from '../examples/social/server/repos/memory.js'
import { POLL_POST, seed } from '../examples/social/server/seed.js'
import type { PostView } from '../examples/social/shared/types.js'
import { appEvents, openSse, type SseStream } from './support/sse.js'

let social: SocialApp
let origin: string
const errors: unknown[] = []
const streams: SseStream[] = []
const cookies: Record<string, string> = {}

beforeEach(async () => {
  errors.length = 0
  const store = memoryStore()
  await seed(store.repos)
  const position = { seq: store.changes.head() }
  social = createSocialApp({
    repos: store.repos,
    mode: 'memory',
    secret: 'test-secret-of-sixteen-chars',
    // Six seeded users: room for two new names.
    maxUsers: 8,
    onError: (error) => errors.push(error),
    source: (mapper) =>
      memoryChangeSource({ name: 'social', changes: store.changes, position, map: (c) => eventsOf(c, mapper) }),
  })
  await social.source.start()
  await social.app.listen({ port: 0, host: '127.0.0.1' })
  origin = `http://127.0.0.1:${(social.app.server.address() as AddressInfo).port}`
  for (const name of ['ana', 'ben', 'chloe', 'dev', 'maya']) cookies[name] = await login(name)
})
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close()
  await social.close()
  expect(errors).toEqual([])
})

async function login(name: string): Promise<string> {
  const res = await fetch(`${origin}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  })
  expect(res.status).toBe(200)
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string
}

async function call<T = { error?: { code: string; message: string } }>(
  who: string | null,
  method: string,
  path: string,
  body?: unknown,
  raw?: string,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {}
  if (who !== null) headers.cookie = cookies[who] ?? who
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${origin}${path}`, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  })
  const text = await res.text()
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T }
}

async function stream(who: string | null, query: string): Promise<SseStream> {
  const opened = await openSse(
    `${origin}/events?${query}`,
    who === null ? {} : { headers: { cookie: cookies[who] as string } },
  )
  streams.push(opened)
  return opened
}

const connected = (s: SseStream) => s.until((events) => events.some((e) => e.event === 'rt.connected'), 5_000)

async function post(who: string, text: string): Promise<string> {
  const res = await call<{ post: { id: string } }>(who, 'POST', '/api/posts', { text })
  expect(res.status).toBe(201)
  return res.body.post.id
}

describe('authorization', () => {
  test('a stream opens only for your own topic, the feed, posts you can see, and the admin topic for admins', async () => {
    const bens = await post('ben', 'only for my followers')
    const refused: [string, string][] = [
      ['chloe', 'topics=user:ana'],
      ['chloe', `topics=post:${bens}`],
      ['chloe', `topics=user:chloe,feed,post:${bens}`],
      ['chloe', `topics=post:${POLL_POST}&transport=poll&timeout=0`],
      ['chloe', 'topics=post:no-such-post'],
      ['chloe', 'topics=admin'],
      ['ana', 'topics=feed,admin'],
      ['chloe', 'topics=feed:ben'],
      ['chloe', 'topics=anything'],
    ]
    for (const [who, query] of refused) {
      const opened = await stream(who, query)
      expect([who, query, opened.status]).toEqual([who, query, 403])
    }
    expect((await stream(null, 'topics=feed')).status).toBe(401)
    const forged = `${(cookies.ana as string).split('.')[0]}.AAAA`
    expect((await openSse(`${origin}/events?topics=feed`, { headers: { cookie: forged } })).status).toBe(401)

    for (const [who, query] of [
      ['chloe', 'topics=user:chloe,feed'],
      ['ana', `topics=post:${bens},post:${POLL_POST}`],
      ['ben', `topics=post:${bens}`],
      ['maya', 'topics=admin,feed,user:maya'],
    ] as const) {
      const opened = await stream(who, query)
      expect([who, query, opened.status]).toEqual([who, query, 200])
    }
  })

  test('the REST API refuses the same things with 403 (and 401 without a session)', async () => {
    expect((await call(null, 'GET', '/api/feed')).status).toBe(401)
    expect((await call(null, 'POST', '/api/posts', { text: 'hi' })).status).toBe(401)
    const hidden = [
      ['GET', `/api/posts/${POLL_POST}`, undefined],
      ['POST', `/api/posts/${POLL_POST}/like`, undefined],
      ['DELETE', `/api/posts/${POLL_POST}/like`, undefined],
      ['POST', `/api/posts/${POLL_POST}/comments`, { text: 'hello' }],
      ['POST', `/api/posts/${POLL_POST}/vote`, { option: 0 }],
      ['POST', '/api/posts/no-such-post/like', undefined],
    ] as const
    for (const [method, path, body] of hidden) {
      const res = await call('chloe', method, path, body)
      expect([method, path, res.status, res.body.error?.message]).toEqual([
        method,
        path,
        403,
        'you cannot see this post',
      ])
    }
    for (const [method, path, body] of [
      ['GET', '/api/admin/status', undefined],
      ['POST', '/api/admin/source/stop', undefined],
      ['POST', '/api/admin/source/start', undefined],
      ['POST', '/api/admin/broadcast', { text: 'hello all' }],
    ] as const) {
      const res = await call('ana', method, path, body)
      expect([path, res.status, res.body.error?.message]).toEqual([path, 403, 'admins only'])
    }
    expect(social.source.report().state).toBe('running')
    expect((await call('maya', 'GET', '/api/admin/status')).status).toBe(200)
  })
})

describe('bad input', () => {
  test('the dev login creates accounts up to its cap, then refuses new names with 403 (known ones still log in)', async () => {
    const attempt = (name: string) =>
      fetch(`${origin}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      })
    expect((await attempt('Zoe')).status).toBe(200)
    expect((await attempt('Yan')).status).toBe(200)
    const refused = await attempt('Xia')
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      'this demo holds at most 8 users: log in as one of them',
    )
    expect((await attempt('Zoe')).status).toBe(200)
    expect((await attempt('ana')).status).toBe(200)
    expect((await social.service.users()).length).toBe(8)
  })

  test('400 with a message that says what is wrong', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/posts', { text: '   ' }, 'text must be 1 to 500 characters'],
      ['POST', '/api/posts', { text: 'x'.repeat(501) }, 'text must be 1 to 500 characters'],
      ['POST', '/api/posts', { text: 42 }, 'text must be a string'],
      ['POST', '/api/posts', { text: 'bell\u0007' }, 'text holds control characters'],
      [
        'POST',
        '/api/posts',
        { text: 'poll', poll: { question: 'Q?', options: ['one'] } },
        'a poll needs 2 to 4 options',
      ],
      ['POST', '/api/posts', { text: 'poll', poll: 'yes' }, 'poll must be an object'],
      [
        'POST',
        '/api/posts',
        { text: 'poll', poll: { question: '', options: ['a', 'b'] } },
        'poll question must be 1 to 140 characters',
      ],
      [
        'POST',
        '/api/posts',
        { text: 'poll', poll: { question: 'Q?', options: ['a', ''] } },
        'option 2 must be 1 to 60 characters',
      ],
      ['POST', `/api/posts/${POLL_POST}/vote`, { option: 3 }, 'option must be a whole number from 0 to 2'],
      ['POST', `/api/posts/${POLL_POST}/vote`, { option: '1' }, 'option must be a whole number from 0 to 2'],
      ['POST', `/api/posts/${POLL_POST}/vote`, {}, 'option must be a whole number from 0 to 2'],
      ['POST', `/api/posts/${POLL_POST}/comments`, { text: '' }, 'text must be 1 to 300 characters'],
      ['POST', '/api/posts/bad%20id/like', undefined, 'postId is not a valid id'],
      ['POST', '/api/people/ana/follow', undefined, 'you cannot follow yourself'],
      ['POST', '/api/login', { name: '   ' }, 'name must be 1 to 40 characters'],
      ['POST', '/api/login', { name: '!!!' }, 'the name needs at least one letter or digit'],
    ]
    for (const [method, path, body, message] of cases) {
      const res = await call('ana', method, path, body)
      expect([path, res.status, res.body.error?.message]).toEqual([path, 400, message])
    }
    const malformed = await call('ana', 'POST', '/api/posts', undefined, '{"text": ')
    expect([malformed.status, malformed.body.error?.message]).toEqual([400, 'unreadable request body'])
    const large = await call('ana', 'POST', '/api/posts', undefined, JSON.stringify({ text: 'x'.repeat(20_000) }))
    expect([large.status, large.body.error?.message]).toEqual([413, 'request body too large'])
    const empty = await call('maya', 'POST', '/api/admin/broadcast', { text: '' })
    expect([empty.status, empty.body.error?.message]).toEqual([400, 'text must be 1 to 200 characters'])
    const vote = await call('ben', 'POST', `/api/posts/${await post('ben', 'no poll here')}/vote`, { option: 0 })
    expect([vote.status, vote.body.error?.message]).toEqual([400, 'this post has no poll'])
    expect((await call('ana', 'POST', '/api/people/nobody/follow')).status).toBe(404)
    expect((await call('ana', 'GET', '/api/nowhere')).status).toBe(404)
  })
})

describe('events', () => {
  test('a new post reaches the author and followers only, with the author profile loaded in one query', async () => {
    const [ana, chloe, ben] = [
      await stream('ana', 'topics=feed'),
      await stream('chloe', 'topics=feed'),
      await stream('ben', 'topics=feed'),
    ]
    await Promise.all([connected(ana), connected(chloe), connected(ben)])
    const queries = social.profiles.queries
    const id = await post('ben', 'followers only')
    await ana.until((events) => appEvents(events).some((e) => e.type === 'post.new'), 5_000)
    await ben.until((events) => appEvents(events).some((e) => e.type === 'post.new'), 5_000)
    expect(social.profiles.queries).toBe(queries + 1)
    const view = appEvents(ana.events).find((e) => e.type === 'post.new')?.data as PostView
    expect(view.post.id).toBe(id)
    expect(view.author).toMatchObject({ id: 'ben', name: 'Ben Okafor', handle: 'benokafor' })
    // A post Chloé may see, after Ben's: it reaches her, Ben's never did.
    await post('dev', 'for chloe too')
    await chloe.until((events) => appEvents(events).some((e) => e.type === 'post.new'), 5_000)
    expect(appEvents(chloe.events).map((e) => (e.data as PostView).post.text)).toEqual(['for chloe too'])
  })

  test('stopped and started again, the source delivers what was written meanwhile, once, and records the states', async () => {
    const ana = await stream('ana', 'topics=feed')
    await connected(ana)
    expect((await call('maya', 'POST', '/api/admin/source/stop')).status).toBe(200)
    const ids = [await post('ben', 'while stopped 1'), await post('ben', 'while stopped 2')]
    // Only the admin topic's state events were logged meanwhile.
    const published = social.hub.stats().published
    await call('maya', 'GET', '/api/admin/status')
    expect(social.hub.stats().published).toBe(published)
    expect(appEvents(ana.events).filter((e) => e.type === 'post.new')).toHaveLength(0)
    const started = await call<{ source: { state: string; history: { state: string }[] } }>(
      'maya',
      'POST',
      '/api/admin/source/start',
    )
    expect(started.status).toBe(200)
    await post('ben', 'after the start')
    await ana.until((events) => appEvents(events).filter((e) => e.type === 'post.new').length >= 3, 5_000)
    const delivered = appEvents(ana.events).map((e) => (e.data as PostView).post)
    expect(delivered.map((p) => p.text)).toEqual(['while stopped 1', 'while stopped 2', 'after the start'])
    expect(delivered.slice(0, 2).map((p) => p.id)).toEqual(ids)
    const states = started.body.source.history.map((h) => h.state)
    expect(states).toEqual(['starting', 'running', 'stopped', 'starting', 'running'])
  })
})
