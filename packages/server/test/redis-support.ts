/**
 * Test support for the Redis integrations: the shared redis-server on 6379, a random key
 * prefix per test so parallel files never collide, and cleanup of those keys.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'
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

/**
 * A redis-server of the test's own on a free port, for tests that pause, kill or flush
 * Redis: the shared server on 6379 serves other test files at the same time.
 */
export async function ownRedisServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (/Ready to accept connections/.test(output)) {
        proc.stdout.off('data', onData)
        proc.stdout.resume()
        proc.stderr.resume()
        resolve()
      }
    }
    proc.stdout.on('data', onData)
    proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)))
    proc.once('error', reject)
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      const exited = once(proc, 'exit')
      proc.kill('SIGKILL')
      await exited
    },
  }
}
