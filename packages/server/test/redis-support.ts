/**
 * Test support for the Redis integrations: the shared redis-server on 6379, a random key
 * prefix per test so parallel files never collide, and cleanup of those keys.
 */
import { createClient } from 'redis'
import type { RedisLike } from '../src/redis/client.js'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A key prefix no other test uses. */
export function testPrefix(name: string): string {
  return `rt-test:${name}:${Math.random().toString(36).slice(2, 10)}`
}

/** Deletes every key under `prefix`. */
export async function dropKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const client = createClient({ url })
  client.on('error', () => {})
  await client.connect()
  try {
    let cursor = '0'
    do {
      const [next, keys] = (await client.sendCommand(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [
        string,
        string[],
      ]
      cursor = next
      if (keys.length > 0) await client.sendCommand(['DEL', ...keys])
    } while (cursor !== '0')
  } finally {
    client.destroy()
  }
}

/** A connected node-redis client; destroy it after use. */
export async function redisClient(url = REDIS_URL) {
  const client = createClient({ url })
  client.on('error', () => {})
  await client.connect()
  return client
}

/**
 * `client`, and every connection duplicated from it (redisLog's tail), calling `before` with
 * each command's arguments first: when it returns a promise, the command waits for it. A
 * test holds the commands it picks (a read, the tail's XREAD) until it lets them go.
 */
export function interceptCommands(
  client: RedisLike,
  before: (args: readonly string[]) => Promise<void> | undefined,
): RedisLike {
  return new Proxy(client, {
    get(target, property) {
      if (property === 'sendCommand') {
        return async (args: string[], options?: { abortSignal?: AbortSignal }) => {
          const held = before(args)
          if (held !== undefined) await held
          return target.sendCommand(args, options)
        }
      }
      if (property === 'duplicate') return () => interceptCommands(target.duplicate(), before)
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
