// A forgotten `await` on redisLog / redisPresence fails at createHub with the hint, against a real redis-server.
import { afterAll, expect, test } from 'vitest'
import { dropKeys, REDIS_URL, testPrefix } from '../../test/redis-support.js'
import { createHub } from '../core/hub.js'
import type { HubOptions } from '../core/types.js'
import { redisPresence } from './presence.js'
import { redisLog } from './stream-log.js'

const prefix = testPrefix('forgotten-await')
afterAll(() => dropKeys(prefix))

test('createHub({ log: redisLog(...) }) without await says "did you forget await?"', async () => {
  const pending = redisLog({ url: REDIS_URL, stream: `${prefix}:events` })
  expect(() => createHub({ log: pending } as unknown as HubOptions)).toThrow(
    expect.objectContaining({
      code: 'invalid_option',
      message: expect.stringContaining('log is a Promise; did you forget await?'),
    }),
  )
  const log = await pending
  const hub = createHub({ log })
  await hub.publish({ type: 'tick', topic: 'a', data: 1 })
  await hub.close()
  await log.close?.()
})

test('createHub({ presence: redisPresence(...) }) without await says the same', async () => {
  const pending = redisPresence({ url: REDIS_URL }, { prefix: `${prefix}:presence` })
  expect(() => createHub({ presence: pending } as unknown as HubOptions)).toThrow(
    /presence is a Promise; did you forget await\?/,
  )
  await (await pending).close?.()
})
