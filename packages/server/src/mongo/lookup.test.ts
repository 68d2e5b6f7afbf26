/**
 * `lookup` of `mongoLog`, which the hub uses to verify acks: entries by id while the
 * collection holds them; `undefined` for removed, malformed or another log's ids.
 */
import type { Log } from '@rt/server'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { type MongoTarget, mongoTarget } from '../../test/mongo-support/target.js'
import { mongoLog } from './mongo-log.js'

let target: MongoTarget
const logs: Log[] = []
beforeAll(async () => {
  target = await mongoTarget()
})
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close?.()
})
afterAll(() => target.close())

async function open(): Promise<Log> {
  const log = await mongoLog({ db: (await target.client()).db(target.dbName()), pollMs: 50, gapMs: 300 })
  logs.push(log)
  return log
}

test('mongoLog lookup finds entries by id, in the order asked; unknown ids are undefined', async () => {
  const log = await open()
  const other = await open()
  const foreign = await other.append({ type: 'm', topic: 't', data: 0 })
  const first = await log.append({ type: 'm', topic: 't', data: 1, to: ['u1'] })
  const second = await log.append({ type: 'n', topic: 'u', data: 2 })
  const beyond = first.id.replace(/-\d+$/, '-999')
  const found = await log.lookup?.([second.id, 'garbage', first.id, beyond, foreign.id])
  expect(found?.map((entry) => entry?.id)).toEqual([second.id, undefined, first.id, undefined, undefined])
  expect(found?.[2]).toMatchObject({ type: 'm', topic: 't', to: ['u1'], data: 1 })
})
