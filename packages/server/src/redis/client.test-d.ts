import { createClient } from 'redis'
import { expectTypeOf, test } from 'vitest'
import type { RedisLike, RedisTarget } from './client.js'

test('a node-redis client, in either protocol, is a RedisLike', () => {
  expectTypeOf(createClient()).toExtend<RedisLike>()
  expectTypeOf(createClient({ RESP: 2 })).toExtend<RedisLike>()
  expectTypeOf(createClient({ RESP: 3 }).duplicate()).toExtend<RedisLike>()
  expectTypeOf({ client: createClient() }).toExtend<RedisTarget>()
  expectTypeOf({ url: 'redis://localhost' }).toExtend<RedisTarget>()
  expectTypeOf({ client: {} }).not.toExtend<RedisTarget>()
})
