/** The local redis-server the durable benchmarks use, and cleanup of a run's keys. */
import { createClient } from 'redis'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Deletes `prefix` and every key under `prefix:`. */
export async function dropRedisKeys(prefix: string): Promise<void> {
  const client = createClient({ url: REDIS_URL })
  client.on('error', () => {})
  await client.connect()
  try {
    await client.sendCommand(['DEL', prefix])
    let cursor = '0'
    do {
      const [next, keys] = (await client.sendCommand(['SCAN', cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000'])) as [
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
