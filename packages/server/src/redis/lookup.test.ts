/**
 * `lookup` of the Redis logs, which the hub uses to verify acks: the entries this node still
 * holds, by id; `undefined` for anything else (evicted, malformed, another log's id).
 */
import { afterEach, describe, expect, test } from 'vitest'
import { fill, watch } from '../../test/log-support.js'
import { dropKeys, REDIS_URL, testPrefix } from '../../test/redis-support.js'
import type { Log } from '../index.js'
import { redisBus, redisLog } from './index.js'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function open(kind: 'redisLog' | 'redisBus'): Promise<Log> {
  const prefix = testPrefix(`lookup-${kind}`)
  const log =
    kind === 'redisLog'
      ? await redisLog({ url: REDIS_URL, stream: `${prefix}:stream` }, { cache: 3 })
      : await redisBus({ url: REDIS_URL }, { channel: `${prefix}:bus`, capacity: 3 })
  cleanups.push(
    () => dropKeys(prefix),
    () => log.close?.(),
  )
  return log
}

describe.each(['redisLog', 'redisBus'] as const)('%s lookup', (kind) => {
  test('finds held entries by id, in the order asked; evicted, malformed and foreign ids are undefined', async () => {
    const log = await open(kind)
    const other = await open(kind)
    const [foreign] = await fill(other, 1)
    const told = watch(log)
    const entries = await fill(log, 5)
    // A bus holds what pub/sub brought back, which may come after the append resolved.
    await told.until(() => told.told.length === 5)
    const [first, , , fourth, fifth] = entries
    const found = await log.lookup?.([fifth?.id ?? '', 'garbage', first?.id ?? '', fourth?.id ?? '', foreign?.id ?? ''])
    expect(found?.map((entry) => entry?.id)).toEqual([fifth?.id, undefined, undefined, fourth?.id, undefined])
    expect(found?.[0]).toMatchObject({ topic: fifth?.topic, type: fifth?.type })
  })
})
