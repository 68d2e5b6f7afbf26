/**
 * Test support for the Redis integrations: the shared redis-server on 6379, a random key
 * prefix per test so parallel files never collide, and cleanup of those keys.
 */
import { createClient } from 'redis'

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
