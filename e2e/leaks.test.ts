/**
 * A thousand streams opened and closed every way a stream can end leave nothing behind:
 * no subscriber in the hub, no heartbeat timer, no socket, no listener.
 */
import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { createHub, type Log, memoryLog, type RtRequest, type Timers } from '@rt/server'
import { expect, test } from 'vitest'
import { serveHub } from './support/servers.js'

const CYCLES = 1_000
const CONCURRENCY = 32

/** Counts of the active resources of one type (`Timeout`, `TCPSocketWrap`, ...). */
function active(type: string): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === type).length
}

/**
 * Timers pending in this process, at their lowest over a few turns of the event loop: the
 * test runner's own short timers come and go, a leaked interval stays.
 */
async function steadyTimeouts(): Promise<number> {
  let lowest = active('Timeout')
  for (let turn = 0; turn < 5; turn++) {
    await new Promise((resolve) => setImmediate(resolve))
    lowest = Math.min(lowest, active('Timeout'))
  }
  return lowest
}

/** Polls a condition that has no event of its own (a socket closing on the far side). */
async function eventually(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * The real timer functions, left ref'd (the hub's own default unrefs its heartbeat, which
 * hides it from `getActiveResourcesInfo`), and counted.
 */
function countedTimers() {
  const counts = { started: 0, cleared: 0, waits: 0, waitsCleared: 0 }
  /** Long-poll waits by their (unique) duration, so a client knows its poll is waiting. */
  const waiting = new Map<number, () => void>()
  const timers: Timers = {
    setInterval(fn, ms) {
      counts.started++
      return setInterval(fn, ms)
    },
    clearInterval(handle) {
      counts.cleared++
      clearInterval(handle as ReturnType<typeof setInterval>)
    },
    setTimeout(fn, ms) {
      counts.waits++
      const handle = setTimeout(fn, ms)
      waiting.get(ms)?.()
      return handle
    },
    clearTimeout(handle) {
      counts.waitsCleared++
      clearTimeout(handle as ReturnType<typeof setTimeout>)
    },
  }
  return { timers, counts, waiting }
}

/** A real memory log, with its live subscriptions counted. */
function countedLog() {
  const inner = memoryLog({ capacity: 1_000 })
  const counts = { subscribed: 0 }
  const log: Log = {
    ...inner,
    subscribe(listener, onGap) {
      counts.subscribed++
      const off = inner.subscribe(listener, onGap)
      return () => {
        counts.subscribed--
        off()
      }
    },
  }
  return { log, counts }
}

/** Resolves on `close`; an abort on the way there is what these cycles do, not a failure. */
function closed(emitter: NodeJS.EventEmitter): Promise<void> {
  emitter.on('error', () => {})
  return new Promise((resolve) => emitter.once('close', () => resolve()))
}

async function text(res: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of res) body += String(chunk)
  return body
}

/** Waits for the hub to accept the request (`rt.connected`) on a stream of bytes. */
function untilConnected(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1')
      if (seen.includes('event: rt.connected\n')) {
        stream.off('data', onData)
        stream.off('end', onEnd)
        resolve()
      }
    }
    const onEnd = () => reject(new Error(`stream ended before rt.connected: ${seen.slice(0, 200)}`))
    stream.on('data', onData)
    stream.once('end', onEnd)
  })
}

test(`${CYCLES} connect/disconnect cycles leave no subscriber, timer, socket or listener`, async () => {
  const timeoutsBefore = await steadyTimeouts()
  const socketsBefore = active('TCPSocketWrap')
  const serversBefore = active('TCPServerWrap')
  const { timers, counts: timerCounts, waiting } = countedTimers()
  const { log, counts: logCounts } = countedLog()
  /** Requests inside `authenticate`, by id, so their client knows when to hang up. */
  const authenticating = new Map<string, () => void>()

  const hub = createHub({
    log,
    timers,
    heartbeatMs: 20,
    // This test counts live Timeouts; the coalescing window's own short timer would come and
    // go under the count. That it is cleared is pinned in core/review.test.ts.
    coalesceMs: 0,
    async authenticate(req: RtRequest) {
      const user = req.headers.get('x-user')
      if (user === null) return null
      const hold = req.headers.get('x-hold')
      if (hold !== null) {
        // Authentication outlasts the client: answer only once its socket is gone.
        const socket = (req.raw as IncomingMessage).socket
        const gone = once(socket, 'close')
        authenticating.get(hold)?.()
        await gone
      }
      return { userId: user }
    },
    authorize: (_identity, topic) => topic !== 'forbidden',
  })
  const server = await serveHub(hub, 'node')
  const { port } = new URL(server.origin)
  const responses = new Map<string, ServerResponse>()
  const track = (req: IncomingMessage, res: ServerResponse) => {
    const id = req.headers['x-id']
    if (typeof id !== 'string') return
    responses.set(id, res)
    res.once('close', () => responses.delete(id))
  }
  server.server.on('request', track)
  const listenersBefore = new Map(server.server.eventNames().map((name) => [name, server.server.listenerCount(name)]))

  /** A plain node:http client without keep-alive, as a browser tab or a service would be. */
  function get(headers: Record<string, string>, topics = 'a,b', query = '&presence=1') {
    const path = `/events?topics=${topics}${query}`
    const req = httpRequest({ port, host: '127.0.0.1', path, agent: false, headers })
    req.end()
    return { req, response: once(req, 'response').then(([res]) => res as IncomingMessage) }
  }

  /** A raw HTTP/1.1 client on a socket, to hang up abruptly or half-close. */
  async function raw(headers: Record<string, string>) {
    const socket = connect(Number(port), '127.0.0.1')
    await once(socket, 'connect')
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
    socket.write(`GET /events?topics=a HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.join('')}\r\n`)
    return socket
  }

  const kinds: ((i: number) => Promise<void>)[] = [
    // The client aborts its request once the stream is open.
    async (i) => {
      const { req, response } = get({ 'x-user': `u${i % 40}` })
      const res = await response
      expect(res.statusCode).toBe(200)
      await untilConnected(res)
      const done = closed(res)
      req.destroy()
      await done
    },
    // The client's socket is destroyed: a tab closed, a network gone.
    async (i) => {
      const socket = await raw({ 'x-user': `u${i % 40}` })
      await untilConnected(socket)
      const done = closed(socket)
      socket.destroy()
      await done
    },
    // The client half-closes and waits for the server to finish the connection.
    async (i) => {
      const socket = await raw({ 'x-user': `u${i % 40}` })
      await untilConnected(socket)
      const done = closed(socket)
      socket.end()
      socket.resume()
      await done
    },
    // The server side closes the stream (a proxy timeout, a server shutting a socket).
    async (i) => {
      const id = `kill-${i}`
      const { response } = get({ 'x-user': `u${i % 40}`, 'x-id': id })
      const res = await response
      await untilConnected(res)
      const done = closed(res)
      responses.get(id)?.destroy()
      res.resume()
      await done
    },
    // Refused before any stream opens: 401 and 403.
    async (i) => {
      const { response } = get(i % 2 === 0 ? {} : { 'x-user': `u${i % 40}` }, i % 2 === 0 ? 'a' : 'a,forbidden')
      const res = await response
      expect(res.statusCode).toBe(i % 2 === 0 ? 401 : 403)
      const done = closed(res)
      res.resume()
      await done
    },
    // The client leaves while the hub is still authenticating it.
    async (i) => {
      const id = `hold-${i}`
      const entered = new Promise<void>((resolve) => authenticating.set(id, resolve))
      const socket = await raw({ 'x-user': `u${i % 40}`, 'x-hold': id })
      await entered
      authenticating.delete(id)
      const done = closed(socket)
      socket.destroy()
      await done
    },
    // A long-poll abandoned while the hub waits for events on it.
    async (i) => {
      const first = await get({ 'x-user': `u${i % 40}` }, 'a', '&transport=poll').response
      const { lastEventId } = JSON.parse(await text(first)) as { lastEventId: string }
      const ms = 10_000 + i
      const started = new Promise<void>((resolve) => waiting.set(ms, resolve))
      const poll = get({ 'x-user': `u${i % 40}` }, 'a', `&transport=poll&timeout=${ms}&lastEventId=${lastEventId}`)
      await started
      waiting.delete(ms)
      // No response is coming: the request is abandoned before the hub answers.
      poll.response.catch(() => {})
      const done = closed(poll.req)
      poll.req.destroy()
      await done
    },
  ]

  let next = 0
  const worker = async () => {
    while (next < CYCLES) {
      const i = next++
      await (kinds[i % kinds.length] as (i: number) => Promise<void>)(i)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))

  // The hub lets go of a stream when the server sees the socket close; that is asynchronous.
  await eventually(() => hub.stats().connections === 0, 'the hub to release every stream')
  expect(hub.stats()).toMatchObject({ connections: 0, topics: {}, users: {}, dropped: 0 })
  expect(timerCounts.started).toBeGreaterThan(0)
  expect(timerCounts.cleared).toBe(timerCounts.started)
  // At most: the test runner's own short-lived timers may have come and gone meanwhile.
  expect(await steadyTimeouts()).toBeLessThanOrEqual(timeoutsBefore)
  await eventually(() => responses.size === 0, 'every server response to close')
  const serverSockets = () =>
    new Promise<number>((resolve, reject) =>
      server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    )
  await eventually(async () => (await serverSockets()) === 0, 'the server to close every socket')
  await eventually(() => active('TCPSocketWrap') === socketsBefore, 'every socket to close')
  expect(new Map(server.server.eventNames().map((name) => [name, server.server.listenerCount(name)]))).toEqual(
    listenersBefore,
  )
  expect(authenticating.size).toBe(0)
  expect(waiting.size).toBe(0)
  expect(timerCounts.waits).toBeGreaterThan(0)
  expect(timerCounts.waitsCleared).toBe(timerCounts.waits)
  expect(await hub.presence.online('a')).toEqual([])
  expect(await hub.presence.online('b')).toEqual([])
  expect(logCounts.subscribed).toBe(1)

  // Finally the hub itself ends a batch of streams; its heartbeat shows while they are open.
  const idleTimeouts = await steadyTimeouts()
  const last = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const { response } = get({ 'x-user': `last${i}` })
      const res = await response
      await untilConnected(res)
      return res
    }),
  )
  expect(hub.stats().connections).toBe(20)
  expect(await steadyTimeouts()).toBe(idleTimeouts + 1)
  await Promise.all([hub.close(), ...last.map((res) => once(res.resume(), 'end'))])
  expect(hub.stats()).toMatchObject({ closed: true, connections: 0, topics: {}, users: {} })
  expect(await steadyTimeouts()).toBe(idleTimeouts)
  expect(logCounts.subscribed).toBe(0)
  await eventually(() => active('TCPSocketWrap') === socketsBefore, 'the last sockets to close')

  server.server.off('request', track)
  await server.close()
  expect(active('TCPSocketWrap')).toBe(socketsBefore)
  // The listening handle is released by libuv just after the close callback.
  await eventually(() => active('TCPServerWrap') === serversBefore, 'the listening socket to close')
}, 20_000)
