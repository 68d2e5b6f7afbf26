/**
 * `@rt/server/redis`: several nodes on Redis. `redisBus` (pub/sub fan-out, ids assigned
 * once in Redis, resume from each node's memory), `redisLog` (a shared durable log on a
 * Redis stream, resume on any node), `redisPresence` (presence across nodes) and
 * `redisTokenStore` (change stream checkpoints and the source lease).
 *
 * Built on node-redis (`redis` 5+), an optional peer dependency: pass a URL, or a client
 * you created (anything shaped like {@link RedisLike}).
 * @module @rt/server/redis
 */
export { type RedisBusOptions, redisBus } from './bus.js'
export type { RedisLike, RedisTarget } from './client.js'
export { type RedisPresenceOptions, redisPresence } from './presence.js'
export { type RedisLogOptions, redisLog } from './stream-log.js'
export { type RedisTokenStore, type RedisTokenStoreOptions, redisTokenStore } from './token-store.js'
