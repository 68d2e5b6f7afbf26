/**
 * The chat example served in-process over real HTTP, and a small client for its API:
 * logins as cookies, JSON requests, and streams opened as a given user.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type ChatApp, createChatApp } from '../../examples/chat/server/app.js'
import { publishChanges } from '../../examples/chat/server/publish.js'
import { memoryRepositories } from '../../examples/chat/server/repos/memory.js'
import type { Repositories } from '../../examples/chat/server/repos/types.js'
import { seed } from '../../examples/chat/server/seed.js'
import { createChatService } from '../../examples/chat/server/service.js'
import { type OpenOptions, openSse, type SseStream } from './sse.js'

export interface ChatServer {
  readonly origin: string
  readonly chat: ChatApp
  readonly repos: Repositories
  /** Errors the server reported (none expected). */
  readonly errors: unknown[]
  /** Logs in by name; resolves to the session cookie. */
  login(name: string): Promise<string>
  /** A JSON request as the user holding `cookie`; resolves to status and parsed body. */
  call<T = Record<string, unknown>>(
    cookie: string | null,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>
  /** Opens `/events?<query>` as the user holding `cookie`. */
  stream(cookie: string | null, query: string, options?: OpenOptions): Promise<SseStream>
  close(): Promise<void>
}

/** Starts the chat on the in-memory store with the seed data, on a free loopback port. */
export async function startChatServer(options: { heartbeatMs?: number; maxUsers?: number } = {}): Promise<ChatServer> {
  const errors: unknown[] = []
  const repos = memoryRepositories()
  await seed(createChatService(repos))
  const chat = createChatApp({
    repos,
    secret: 'test-secret-of-sixteen-chars',
    heartbeatMs: options.heartbeatMs,
    maxUsers: options.maxUsers,
    onError: (error) => errors.push(error),
  })
  const stopPublishing = publishChanges(repos, chat.hub, (error) => errors.push(error))
  const server = createServer(chat.app)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const streams: SseStream[] = []

  async function call<T>(cookie: string | null, method: string, path: string, body?: unknown) {
    const headers: Record<string, string> = {}
    if (cookie !== null) headers.cookie = cookie
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${origin}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T }
  }

  return {
    origin,
    chat,
    repos,
    errors,
    async login(name) {
      const res = await fetch(`${origin}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      })
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`)
      const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string
      return cookie
    },
    call,
    async stream(cookie, query, options = {}) {
      const headers = { ...options.headers, ...(cookie === null ? {} : { cookie }) }
      const stream = await openSse(`${origin}/events?${query}`, { ...options, headers })
      streams.push(stream)
      return stream
    },
    async close() {
      for (const stream of streams) stream.close()
      await stopPublishing()
      await chat.close()
      const closed = once(server, 'close')
      server.close()
      server.closeAllConnections()
      await closed
    },
  }
}
