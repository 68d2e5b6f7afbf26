/**
 * `redisTokenStore`: change stream checkpoints and the source lease in Redis.
 * @module
 */
import type { Checkpoint, TokenStore } from '../mongo/token-store.js'
import { connect, type RedisTarget } from './client.js'
import { Script } from './script.js'

/** Options of {@link redisTokenStore}. */
export interface RedisTokenStoreOptions {
  /** Prefix of the keys: `<prefix>:token:<name>` and `<prefix>:lease:<name>`. @default 'rt:tokens' */
  prefix?: string
}

// Takes a free lease, or extends it for its holder. KEYS: lease; ARGV: holder, ttl
const TAKE = new Script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`)

// Deletes the lease only for its holder. KEYS: lease; ARGV: holder
const RELEASE = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

/** A token store on Redis; `close()` releases its connection. */
export interface RedisTokenStore extends TokenStore {
  /** Closes the connection opened for a URL; a client you passed stays open. */
  close(): Promise<void>
}

/**
 * A token store in Redis, for `mongoChangeStream` when the hub runs on several nodes:
 * checkpoints as JSON in a hash per source, and a lease (`SET NX PX`, renewed and released by Lua
 * compare-and-set on the holder) so that one node watches and the others stand by.
 * Lease expiry runs on the Redis clock, so the nodes' clocks need not agree.
 *
 * Tokens are stored as JSON (MongoDB 4.2+ tokens are `{ _data: string }`). Keep them on a
 * Redis with persistence (AOF or RDB): a Redis that loses them makes sources start anew.
 *
 * @example
 * ```ts
 * import { redisTokenStore } from '@rt/server/redis'
 * const tokens = await redisTokenStore({ url: process.env.REDIS_URL })
 * await hub.attach(mongoChangeStream({ collection, tokens, lease: true, map }))
 * ```
 */
export async function redisTokenStore(
  target: RedisTarget,
  options: RedisTokenStoreOptions = {},
): Promise<RedisTokenStore> {
  const prefix = options.prefix ?? 'rt:tokens'
  const conns = await connect(target, 'redisTokenStore')
  const client = conns.client
  const tokenKey = (name: string) => `${prefix}:token:${name}`
  const leaseKey = (name: string) => `${prefix}:lease:${name}`
  const take = async (name: string, holder: string, ttlMs: number) =>
    (await TAKE.run(client, [leaseKey(name)], [holder, String(Math.max(1, Math.ceil(ttlMs)))])) === 1

  return {
    async load(name) {
      const [position, topics] = (await client.sendCommand(['HMGET', tokenKey(name), 'c', 't'])) as [
        string | null,
        string | null,
      ]
      if (position === null) return null
      const saved = JSON.parse(position) as Pick<Checkpoint, 'token' | 'changeAt'>
      return {
        token: saved.token,
        changeAt: saved.changeAt,
        topics: topics === null ? undefined : (JSON.parse(topics) as string[]),
      }
    },

    async save(name, checkpoint) {
      // One HSET: the position and, when given, the topics (absent topics stay as saved).
      const position = JSON.stringify({ token: checkpoint.token, changeAt: checkpoint.changeAt })
      const args = ['HSET', tokenKey(name), 'c', position]
      if (checkpoint.topics !== undefined) args.push('t', JSON.stringify(checkpoint.topics))
      await client.sendCommand(args)
    },

    async clear(name) {
      await client.sendCommand(['DEL', tokenKey(name)])
    },

    lease: {
      acquire: take,
      renew: take,
      async release(name, holder) {
        await RELEASE.run(client, [leaseKey(name)], [holder])
      },
    },

    close: () => conns.close(),
  }
}
