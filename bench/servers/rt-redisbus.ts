/** rt on `redisBus` (the local redis-server): every event goes through Redis pub/sub and back. */
import { redisBus } from '@rt/server/redis'
import { dropRedisKeys, REDIS_URL } from './redis-keys.js'
import { runRtHub } from './rt-hub.js'

const channel = `rt-bench:${Math.random().toString(36).slice(2, 10)}`
await runRtHub(await redisBus({ url: REDIS_URL }, { channel, capacity: 200_000, maxPending: 100_000 }), () =>
  dropRedisKeys(channel),
)
