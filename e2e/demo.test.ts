/**
 * The README's first command: `npm run demo` builds and serves the chat, social and
 * notifications examples, prints their URLs and how to log in, falls back to a free port
 * when a port is taken, and closes cleanly on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { appEvents, openSse } from './support/sse.js'

const root = join(import.meta.dirname, '..')
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Collects a child's stdout and resolves when a pattern appears in it. */
function watchOutput(child: ChildProcess) {
  let output = ''
  let wake = () => {}
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
    wake()
  })
  // Fires once every process holding the pipe (npm, tsx, node) has exited.
  const closed = once(child.stdout as NodeJS.ReadableStream, 'close').then(() => {
    wake()
  })
  return {
    closed,
    match(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          wake = () => {}
          reject(new Error(`no match for ${pattern} within ${timeoutMs} ms; output:\n${output}`))
        }, timeoutMs)
        wake = () => {
          const found = output.match(pattern)
          if (found === null) return
          clearTimeout(timer)
          wake = () => {}
          resolve(found)
        }
        wake()
      })
    },
  }
}

test('npm run demo prints the chat, social and notifications URLs and login hints, serves them on free ports when PORT is taken', async () => {
  // Hold a port so the demo has to fall back.
  const blocker = createServer()
  blocker.listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
  const taken = (blocker.address() as { port: number }).port

  const child = spawn('npm', ['run', 'demo'], {
    cwd: root,
    env: { ...process.env, PORT: String(taken), HOST: '127.0.0.1', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so the test can signal npm, tsx and node together.
    detached: true,
  })
  const output = watchOutput(child)
  let gone = false
  void output.closed.then(() => {
    gone = true
  })
  cleanups.push(async () => {
    if (gone) return
    process.kill(-(child.pid as number), 'SIGKILL')
    await output.closed
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })

  // The first start of a fresh clone builds the UI, which takes a few seconds.
  const [, url, port] = await output.match(/chat: (http:\/\/localhost:(\d+))\s/, 90_000)
  await output.match(/log in as two users: .*Alice.*Bob/, 5_000)
  expect(Number(port)).not.toBe(taken)
  const [, socialUrl] = await output.match(/social: (http:\/\/localhost:\d+)\s/, 90_000)
  await output.match(/log in to social as two users \+ the admin: .*Ana.*Ben.*Maya/, 5_000)
  const socialOrigin = (socialUrl as string).replace('localhost', '127.0.0.1')
  const socialPage = await fetch(`${socialOrigin}/`)
  expect(socialPage.status).toBe(200)
  const socialHtml = await socialPage.text()
  expect(socialHtml).toContain('<title>rt social</title>')
  const socialScript = socialHtml.match(/<script type="module" crossorigin src="([^"]+)"/)?.[1] as string
  expect((await fetch(`${socialOrigin}${socialScript}`)).status).toBe(200)
  const users = (await (await fetch(`${socialOrigin}/api/users`)).json()) as { users: { id: string }[] }
  expect(users.users.map((u) => u.id)).toEqual(expect.arrayContaining(['ana', 'ben', 'maya']))
  const origin = (url as string).replace('localhost', '127.0.0.1')

  // The built UI: the page and the script it loads.
  const res = await fetch(`${origin}/`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/html/)
  const html = await res.text()
  expect(html).toContain('<div id="root"></div>')
  const script = html.match(/<script type="module" crossorigin src="([^"]+)"/)?.[1] as string
  expect(script).toMatch(/^\/assets\/.+\.js$/)
  const js = await fetch(`${origin}${script}`)
  expect(js.status).toBe(200)
  expect((await js.text()).length).toBeGreaterThan(10_000)

  // Log in as two seeded users: a mention reaches the other one's stream live.
  const login = async (name: string) => {
    const answer = await fetch(`${origin}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    })
    expect(answer.status).toBe(200)
    return (answer.headers.get('set-cookie') ?? '').split(';')[0] as string
  }
  const alice = await login('Alice')
  const bob = await login('Bob')
  const stream = await openSse(`${origin}/events?topics=user:alice,group:coffee-run`, { headers: { cookie: alice } })
  cleanups.push(() => stream.close())
  expect(stream.status).toBe(200)
  await stream.until((events) => events.some((e) => e.event === 'rt.connected'), 5_000)
  const sent = await fetch(`${origin}/api/groups/coffee-run/messages`, {
    method: 'POST',
    headers: { cookie: bob, 'content-type': 'application/json' },
    body: JSON.stringify({ text: '@alice the demo works' }),
  })
  expect(sent.status).toBe(201)
  await stream.until(
    (events) => ['message.new', 'notification.new'].every((type) => events.some((e) => e.event === type)),
    10_000,
  )
  const message = appEvents(stream.events).find((e) => e.type === 'message.new')
  expect(message?.data).toMatchObject({ text: '@alice the demo works', senderId: 'bob' })

  // The notifications example (Next.js; the first start of a checkout builds it).
  const [, notificationsUrl] = await output.match(/ {2}notifications: (http:\/\/localhost:\d+)\s/, 120_000)
  await output.match(/log in to the notifications as an admin and two users: .*Ada.*Alice.*Bob/, 5_000)
  const notifications = (notificationsUrl as string).replace('localhost', '127.0.0.1')
  const home = await fetch(`${notifications}/`)
  expect(home.status).toBe(200)
  const loginPage = await home.text()
  for (const user of ['ada', 'alice', 'bob']) expect(loginPage).toContain(`data-login="${user}"`)
  // The admin's insert reaches Alice's stream through the Next.js route.
  const session = async (userId: string) => {
    const answer = await fetch(`${notifications}/api/login`, {
      method: 'POST',
      body: new URLSearchParams({ userId }),
      redirect: 'manual',
    })
    expect(answer.status).toBe(303)
    return (answer.headers.get('set-cookie') ?? '').split(';')[0] as string
  }
  const bell = await openSse(`${notifications}/events?topics=user:alice`, {
    headers: { cookie: await session('alice') },
  })
  cleanups.push(() => bell.close())
  expect(bell.status).toBe(200)
  await bell.until((events) => events.some((e) => e.event === 'rt.connected'), 5_000)
  const inserted = await fetch(`${notifications}/api/notifications`, {
    method: 'POST',
    headers: { cookie: await session('ada'), 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'The demo works', to: { userId: 'alice' } }),
  })
  expect(inserted.status).toBe(201)
  await bell.until((events) => events.some((e) => e.event === 'notification.new'), 10_000)

  // A clean shutdown: the stream is told, then ends, and every process of the tree exits.
  process.kill(-(child.pid as number), 'SIGTERM')
  await stream.until((events) => events.some((e) => e.event === 'rt.closing'), 5_000)
  await stream.ended
  await output.match(/^closed$/m, 10_000)
  await output.closed
  expect(stderr.replace(/^npm warn .*\n/gm, '')).toBe('')
}, 240_000)
