/**
 * The README's first command: `npm run demo` prints a URL that serves the page, streams
 * the ticker, falls back to a free port when its port is taken, and closes cleanly on
 * SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { openSse } from './support/sse.js'

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

test('npm run demo serves the page and the ticker, on a free port when PORT is taken', async () => {
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

  const [, url, port] = await output.match(/(http:\/\/localhost:(\d+))\s/, 20_000)
  expect(Number(port)).not.toBe(taken)
  const origin = (url as string).replace('localhost', '127.0.0.1')

  const res = await fetch(`${origin}/`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/html/)
  const html = await res.text()
  expect(html).toContain("new EventSource('/events?topics=ticker')")

  const stream = await openSse(`${origin}/events?topics=ticker`)
  cleanups.push(() => stream.close())
  expect(stream.status).toBe(200)
  await stream.until((events) => events.some((e) => e.event === 'tick'), 5_000)
  const tick = stream.events.find((e) => e.event === 'tick')
  const envelope = JSON.parse(tick?.data as string) as { topic: string; data: { n: number; time: string } }
  expect(envelope.topic).toBe('ticker')
  expect(envelope.data.n).toBeGreaterThan(0)
  expect(Number.isNaN(Date.parse(envelope.data.time))).toBe(false)

  // A clean shutdown: the stream is told, then ends, and every process of the tree exits.
  process.kill(-(child.pid as number), 'SIGTERM')
  await stream.until((events) => events.some((e) => e.event === 'rt.closing'), 5_000)
  await stream.ended
  await output.match(/^closed$/m, 5_000)
  await output.closed
  expect(stderr.replace(/^npm warn .*\n/gm, '')).toBe('')
})
