/**
 * Every framework example in examples/frameworks/ is started as its own process (Node with
 * tsx, Bun, Deno) and proven over real HTTP: a stream, a resume with Last-Event-ID, an ack
 * (POST to the same route) and a long-poll, each through the framework's own routing.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { appEvents, openSse } from './support/sse.js'

const root = join(import.meta.dirname, '..')
const bin = (name: string) => join(root, 'node_modules', '.bin', name)
const example = (file: string) => join(root, 'examples', 'frameworks', file)
const onNode = (file: string) => [process.execPath, '--import', 'tsx', '--conditions=@rt/source', example(file)]

interface Framework {
  readonly name: string
  readonly command: readonly string[]
  /** The example file the README's table links. */
  readonly file: string
  readonly health?: boolean
  /** Routes compiled on first request (Next.js dev): requested once before the test. */
  readonly warmUp?: boolean
}

const FRAMEWORKS: readonly Framework[] = [
  { name: 'node:http', command: onNode('node-http.ts'), file: 'node-http.ts' },
  { name: 'Express 5', command: onNode('express.ts'), file: 'express.ts' },
  { name: 'Koa 3', command: onNode('koa.ts'), file: 'koa.ts' },
  { name: 'Fastify 5', command: onNode('fastify.ts'), file: 'fastify.ts', health: true },
  { name: 'Hono on Node', command: onNode('hono.ts'), file: 'hono.ts' },
  { name: 'Bun', command: [bin('bun'), '--conditions=@rt/source', example('bun.ts')], file: 'bun.ts' },
  {
    name: 'Deno',
    command: [bin('deno'), 'run', '--allow-all', '--conditions=@rt/source', example('deno.ts')],
    file: 'deno.ts',
  },
  // `next dev` (webpack): `next build` takes minutes on two busy cores; dev compiles the two
  // routes on first request, which the warm-up does before the test.
  {
    name: 'Next.js App Router',
    command: [bin('next'), 'dev', '--webpack', '--port', '0', example('next')],
    file: 'next/app/events/route.ts',
    warmUp: true,
  },
]

/** Starts `command` with PORT=0 and resolves with the URL it prints once listening. */
function start(command: readonly string[]): Promise<{ child: ChildProcess; base: string }> {
  const [file = '', ...args] = command
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    DENO_NO_UPDATE_CHECK: '1',
    NEXT_TELEMETRY_DISABLED: '1',
    NO_COLOR: '1',
  }
  delete env.NODE_OPTIONS
  const child = spawn(file, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /(?:listening on|Local:)\s+(http:\/\/\S+)/.exec(output)?.[1]
      if (url !== undefined) resolve({ child, base: url.replace('localhost', '127.0.0.1') })
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)))
  })
}

async function publish(base: string, text: string): Promise<string> {
  const res = await fetch(`${base}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { id: string }).id
}

test("the README's framework table links every example with its line count", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const rows = [...readme.matchAll(/\[`examples\/frameworks\/([\w./-]+)`\]\([^)]+\) \| (\d+) \|/g)]
  const counted = Object.fromEntries(rows.map(([, file = '', lines = '']) => [file, Number(lines)]))
  const files = FRAMEWORKS.map(({ file }) => file)
  const actual = Object.fromEntries(
    files.map((file) => [file, readFileSync(example(file), 'utf8').trimEnd().split('\n').length]),
  )
  expect(counted).toEqual(actual)
})

describe.each(FRAMEWORKS)('$name', ({ command, health, warmUp }) => {
  let server: { child: ChildProcess; base: string }

  beforeAll(async () => {
    server = await start(command)
    if (warmUp === true) {
      await publish(server.base, 'warm-up')
      expect((await fetch(`${server.base}/events?topics=lobby&transport=poll&timeout=1`)).status).toBe(200)
    }
  }, 180_000)

  afterAll(() => {
    server?.child.kill()
  })

  test('streams, resumes, takes an ack and answers a long-poll', async () => {
    const events = `${server.base}/events?topics=lobby`

    // A stream: the connected control event, then a published event with its id.
    const stream = await openSse(events)
    expect(stream.status).toBe(200)
    await stream.until((received) => received.some((e) => e.event === 'rt.connected'))
    const first = await publish(server.base, 'one')
    await stream.until((received) => appEvents(received).length === 1)
    expect(appEvents(stream.events)).toMatchObject([{ id: first, type: 'message.new', data: { text: 'one' } }])
    stream.close()

    // A resume: what was published while away, exactly once, from Last-Event-ID.
    const second = await publish(server.base, 'two')
    const resumed = await openSse(events, { lastEventId: first })
    await resumed.until((received) => appEvents(received).length === 1)
    expect(appEvents(resumed.events)).toMatchObject([{ id: second, data: { text: 'two' } }])
    resumed.close()

    // An ack: POST on the same route.
    const ack = await fetch(`${server.base}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ack: [second] }),
    })
    expect(ack.status).toBe(204)

    // A long-poll from the first id answers with the second event.
    const poll = await fetch(`${events}&transport=poll&lastEventId=${encodeURIComponent(first)}`)
    expect(poll.status).toBe(200)
    const answer = (await poll.json()) as { events: { id: string; data: unknown }[]; reset: boolean }
    expect(answer.reset).toBe(false)
    expect(answer.events).toMatchObject([{ id: second, data: { text: 'two' } }])
  })

  if (health === true) {
    test('answers its health check', async () => {
      const res = await fetch(`${server.base}/healthz`)
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ status: 'ok' })
    })
  }
})
