/** rt on `redisLog` (the local redis-server): every event goes through a Redis stream and back. */
import { redisLog } from '@rt/server/redis'
import { dropRedisKeys, REDIS_URL } from './redis-keys.js'
import { runRtHub } from './rt-hub.js'

const stream = `rt-bench:${Math.random().toString(36).slice(2, 10)}`
await runRtHub(await redisLog({ url: REDIS_URL, stream }, { maxLen: 200_000, maxPending: 100_000 }), () =>
  dropRedisKeys(stream),
)
