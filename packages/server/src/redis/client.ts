/**
 * The Redis client rt needs, as a minimal interface a node-redis client (`redis` 5+)
 * satisfies, and the connections each integration opens from it.
 * @module
 */
import { countOption, durationOption, RtError } from '../index.js'

/**
 * The part of a node-redis client rt uses. Pass your own client (`createClient()` from
 * `redis`, connected or not) or a URL and rt creates one.
 */
export interface RedisLike {
  readonly isOpen: boolean
  readonly isReady: boolean
  connect(): Promise<unknown>
  /** Raw commands; `abortSignal` drops a command that has not been written yet. */
  sendCommand(args: readonly string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>
  /** A new connection with the same options, for pub/sub and blocking reads. */
  duplicate(): RedisLike
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>
  on(event: 'error' | 'ready' | 'end' | 'reconnecting', listener: (...args: unknown[]) => void): unknown
  off(event: 'error' | 'ready' | 'end' | 'reconnecting', listener: (...args: unknown[]) => void): unknown
  destroy(): void
}

/**
 * Where to reach Redis: a URL (`redis://[[user][:password]@]host[:port][/db]`, `rediss://`
 * for TLS), or a client you created. rt never closes a client you pass; it closes the
 * connections it opened itself.
 */
export type RedisTarget = { readonly url: string } | { readonly client: RedisLike }

/** The connections one integration uses, and whether they are up. */
export interface Connections {
  /** For commands; shared with the application when it passed its own client. */
  readonly client: RedisLike
  /** Opens a dedicated connection (pub/sub, blocking reads), closed by {@link Connections.close}. */
  dedicated(): Promise<RedisLike>
  /** True when every connection is ready. */
  readonly up: boolean
  /** Closes what was opened here; leaves a client the application passed open. */
  close(): Promise<void>
}

/** Opens the command connection for `target`, creating a node-redis client for a URL. */
export async function connect(target: RedisTarget, who: string): Promise<Connections> {
  let client: RedisLike
  let owned: boolean
  if ('client' in target) {
    client = target.client
    owned = false
  } else {
    client = await createFromUrl(target.url, who)
    owned = true
  }
  const all: RedisLike[] = [client]
  const quiet: Array<[RedisLike, () => void]> = []
  // node-redis throws 'error' events nobody listens to; the integrations recover on their own.
  const track = (conn: RedisLike) => {
    const ignore = () => {}
    conn.on('error', ignore)
    quiet.push([conn, ignore])
  }
  track(client)
  if (!client.isOpen) await client.connect()
  return {
    client,
    async dedicated() {
      const conn = client.duplicate()
      track(conn)
      all.push(conn)
      await conn.connect()
      return conn
    },
    get up() {
      return all.every((conn) => conn.isReady)
    },
    async close() {
      for (const [i, conn] of all.entries()) {
        if (i > 0 || owned) conn.destroy()
      }
      for (const [conn, listener] of quiet) conn.off('error', listener)
    },
  }
}

async function createFromUrl(url: string, who: string): Promise<RedisLike> {
  let redis: { createClient(options: { url: string }): unknown }
  try {
    redis = (await import('redis')) as unknown as typeof redis
  } catch (error) {
    throw new RtError('invalid_option', `${who}: install the \`redis\` package (node-redis 5+) to connect by URL`, {
      cause: error,
    })
  }
  return redis.createClient({ url }) as RedisLike
}

/** Why a command failed, for status and errors: never the server's text, which may echo data. */
export function unavailable(who: string, error: unknown, what = 'Redis is unreachable'): RtError {
  return new RtError('unavailable', `${who}: ${what}`, { status: 503, retryAfter: 1, cause: error })
}

/**
 * Random bytes drawn a pool at a time: every append sends a candidate epoch, and one
 * `getRandomValues` call per append cost more than the rest of the append's client work.
 */
const pool = new Uint8Array(4_096)
let pooled = 0

/** A random id: node ids, log epochs. */
export function randomId(bytes = 6): string {
  if (pooled < bytes) {
    crypto.getRandomValues(pool)
    pooled = pool.length
  }
  let out = ''
  for (let i = pooled - bytes; i < pooled; i++) out += (pool[i] as number).toString(36).padStart(2, '0')
  pooled -= bytes
  return out
}

/** Validates an optional positive integer option. */
export function positiveInt(who: string, name: string, value: number | undefined, fallback: number): number {
  return countOption(who, name, value, fallback, true)
}

/** A whole number of ms that a timer can hold (see `MAX_TIMER_MS`). */
export function durationMs(who: string, name: string, value: number | undefined, fallback: number): number {
  return durationOption(who, name, positiveInt(who, name, value, fallback), fallback)
}
