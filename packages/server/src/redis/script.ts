/**
 * Lua scripts run by SHA, loaded on first use (and again after a Redis restart).
 * @module
 */
import { createHash } from 'node:crypto'
import type { RedisLike } from './client.js'

/** A Lua script; Redis runs each call atomically. */
export class Script {
  readonly sha: string

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex')
  }

  /**
   * Runs the script. A `NOSCRIPT` answer means Redis did not run it, so sending the
   * source is safe even for scripts that write.
   */
  async run(client: RedisLike, keys: readonly string[], args: readonly string[], signal?: AbortSignal) {
    const tail = [String(keys.length), ...keys, ...args]
    const options = signal === undefined ? undefined : { abortSignal: signal }
    try {
      return await client.sendCommand(['EVALSHA', this.sha, ...tail], options)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return client.sendCommand(['EVAL', this.source, ...tail], options)
    }
  }
}

/** Lua: `epoch` = the epoch in hash `meta` (a Lua expression), set to ARGV[1] when there is none. */
export function ensureEpoch(meta: string): string {
  return `
local epoch = redis.call('HGET', ${meta}, 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', ${meta}, 'epoch', epoch)
end`
}

/** Lua: `ms` = Redis server time in ms (a number; format with `%.0f`). */
export const SERVER_MS = `
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)`

/** Lua: replaces the epoch when it is still ARGV[1] (Redis went back in time). */
export const ROTATE_EPOCH = new Script(`
if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'epoch', ARGV[2])
end
return redis.call('HGET', KEYS[1], 'epoch')`)
