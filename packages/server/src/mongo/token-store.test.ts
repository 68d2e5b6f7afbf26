import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type MongoTarget, mongoTarget } from '../../test/mongo-support/target.js'
import { mongoTokenStore } from './mongo-token-store.js'
import { memoryTokenStore, type TokenStore } from './token-store.js'

let target: MongoTarget
let db: Db
beforeAll(async () => {
  target = await mongoTarget()
  db = (await target.client()).db(target.dbName())
})
afterAll(() => target.close())

let now = 1_000_000
const clock = () => now

const stores: Array<[string, () => TokenStore]> = [
  ['memoryTokenStore', () => memoryTokenStore({ now: clock })],
  [
    'mongoTokenStore',
    () => mongoTokenStore(db, { collection: `tokens_${Math.random().toString(36).slice(2)}`, now: clock }),
  ],
]

describe.each(stores)('%s', (_, make) => {
  test('saves, loads and clears checkpoints per name; absent topics keep the saved ones', async () => {
    const store = make()
    expect(await store.load('a')).toBeNull()
    await store.save('a', { token: { _data: '01' }, changeAt: 1_700_000_000_000, topics: ['x', 'y'] })
    await store.save('b', { token: { _data: '99' } })
    await store.save('a', { token: { _data: '02' } })
    expect(await store.load('a')).toEqual({ token: { _data: '02' }, changeAt: undefined, topics: ['x', 'y'] })
    expect((await store.load('b'))?.token).toEqual({ _data: '99' })
    await store.clear('a')
    expect(await store.load('a')).toBeNull()
    expect((await store.load('b'))?.token).toEqual({ _data: '99' })
  })

  test('lease: one holder until it expires or is released; renewal extends it', async () => {
    const lease = make().lease!
    expect(await lease.acquire('src', 'n1', 1_000)).toBe(true)
    expect(await lease.acquire('src', 'n2', 1_000)).toBe(false)
    expect(await lease.acquire('other', 'n2', 1_000)).toBe(true)
    now += 900
    expect(await lease.renew('src', 'n1', 1_000)).toBe(true)
    now += 900
    expect(await lease.acquire('src', 'n2', 1_000)).toBe(false)
    now += 101
    expect(await lease.acquire('src', 'n2', 1_000)).toBe(true)
    expect(await lease.renew('src', 'n1', 1_000)).toBe(false)
    await lease.release('src', 'n1') // not the holder: no effect
    expect(await lease.acquire('src', 'n1', 1_000)).toBe(false)
    await lease.release('src', 'n2')
    expect(await lease.acquire('src', 'n1', 1_000)).toBe(true)
  })

  test('the lease and the checkpoint of one name do not disturb each other', async () => {
    const store = make()
    expect(await store.lease!.acquire('s', 'n1', 10_000)).toBe(true)
    await store.save('s', { token: { _data: '0a' }, topics: ['t'] })
    expect(await store.lease!.acquire('s', 'n2', 10_000)).toBe(false)
    await store.clear('s')
    expect(await store.load('s')).toBeNull()
    expect(await store.lease!.renew('s', 'n1', 10_000)).toBe(true)
  })
})

test('mongoTokenStore keeps one readable document per source', async () => {
  const store = mongoTokenStore(db, { collection: 'readable', now: clock })
  await store.save('mongo:app.posts', { token: { _data: '8265' }, changeAt: 1_700_000_000_000, topics: ['feed'] })
  await store.lease!.acquire('mongo:app.posts', 'node-1', 5_000)
  const doc = await db.collection('readable').findOne({ _id: 'mongo:app.posts' as never })
  expect(doc).toMatchObject({
    token: { _data: '8265' },
    changeAt: new Date(1_700_000_000_000),
    topics: ['feed'],
    lease: { holder: 'node-1', expiresAt: new Date(now + 5_000) },
  })
  expect(doc?.savedAt).toBeInstanceOf(Date)
})

test('mongoTokenStore: two clients racing for a free lease, exactly one wins', async () => {
  const other = (await target.client()).db(db.databaseName)
  const name = `race-${Math.random()}`
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      mongoTokenStore(i % 2 === 0 ? db : other, { collection: 'race', now: clock }).lease!.acquire(
        name,
        `n${i}`,
        5_000,
      ),
    ),
  )
  expect(results.filter(Boolean)).toHaveLength(1)
})
