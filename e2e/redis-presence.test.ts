/**
 * Presence across nodes (issue 6, done when 5): a user streaming from node A is listed by
 * node B and announced to B's watchers; when A dies, the user disappears within the
 * documented time (`ttlMs + heartbeatMs`), with a `left` event.
 */
import { afterEach, expect, test } from 'vitest'
import { dropKeys, REDIS_URL } from '../packages/server/test/redis-support.js'
import { type HubNode, openRaw, type RawEvent, startNode, testName } from './fixtures/redis-harness.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const TTL_MS = 1_200
/** What the fixture derives: ttl / 4. */
const HEARTBEAT_MS = TTL_MS / 4

async function nodes(count: number, ttlMs = TTL_MS): Promise<HubNode[]> {
  const name = testName('bus')
  const presencePrefix = testName('presence')
  cleanups.push(() => dropKeys(name))
  cleanups.push(() => dropKeys(presencePrefix))
  const config = { redisUrl: REDIS_URL, mode: 'bus' as const, name, presencePrefix, presenceTtlMs: ttlMs }
  const started = await Promise.all(Array.from({ length: count }, () => startNode(config)))
  for (const node of started) cleanups.push(() => node.stop())
  return started
}

const presenceOf = (events: readonly RawEvent[]) =>
  events.filter((e) => e.event === 'rt.presence').map((e) => JSON.parse(e.data) as Record<string, unknown>)

const sorted = async (list: Promise<string[]>) => (await list).sort()

test('a user on node A is online on node B, and gone within ttl + heartbeat after A is SIGKILLed', async () => {
  const [a, b] = (await nodes(2)) as [HubNode, HubNode]
  const watcher = await openRaw(`${b.url}?topics=room&presence=1`, { user: 'w' })
  cleanups.push(() => watcher.close())
  await watcher.until((e) => presenceOf(e).length === 1)
  expect(presenceOf(watcher.events)).toEqual([{ topic: 'room', online: ['w'] }])

  const tab1 = await openRaw(`${a.url}?topics=room`, { user: 'u1' })
  const tab2 = await openRaw(`${a.url}?topics=room`, { user: 'u1' })
  const elsewhere = await openRaw(`${b.url}?topics=room`, { user: 'u2' })
  cleanups.push(
    () => tab1.close(),
    () => tab2.close(),
    () => elsewhere.close(),
  )
  await watcher.until((e) => presenceOf(e).length === 3)
  expect(
    presenceOf(watcher.events)
      .slice(1)
      .sort((x, y) => String(x.joined).localeCompare(String(y.joined))),
  ).toEqual([
    { topic: 'room', joined: 'u1' },
    { topic: 'room', joined: 'u2' },
  ])
  // Both nodes answer for the whole cluster.
  expect(await sorted(b.online('room'))).toEqual(['u1', 'u2', 'w'])
  expect(await sorted(a.online('room'))).toEqual(['u1', 'u2', 'w'])
  // A late watcher on A gets the cluster-wide snapshot.
  const late = await openRaw(`${a.url}?topics=room&presence=1`, { user: 'x' })
  cleanups.push(() => late.close())
  await late.until((e) => presenceOf(e).length >= 1)
  expect([...((presenceOf(late.events)[0]?.online as string[] | undefined) ?? [])].sort()).toEqual([
    'u1',
    'u2',
    'w',
    'x',
  ])

  // One of two tabs closing is no leave.
  tab2.close()
  await expect.poll(async () => (await a.stats()).users).toMatchObject({ u1: 1 })

  await a.kill()
  const diedAt = Date.now()
  await expect.poll(() => sorted(b.online('room')), { timeout: 10_000, interval: 50 }).toEqual(['u2', 'w'])
  const tookMs = Date.now() - diedAt
  // Expired by its TTL: the documented ttlMs + heartbeatMs, four times over for a busy machine.
  expect(tookMs).toBeLessThanOrEqual(4 * (TTL_MS + HEARTBEAT_MS))
  await watcher.until((e) => presenceOf(e).some((p) => p.left === 'u1'))
  // x was on A too.
  await watcher.until((e) => presenceOf(e).some((p) => p.left === 'x'))
  expect(
    presenceOf(watcher.events)
      .filter((p) => p.left !== undefined)
      .map((p) => p.left)
      .sort(),
  ).toEqual(['u1', 'x'])
})

test('a node shutting down gracefully takes its users offline at once', async () => {
  // A TTL far longer than any wait here: only the node's own goodbye can take u1 offline.
  const [a, b] = (await nodes(2, 600_000)) as [HubNode, HubNode]
  const user = await openRaw(`${a.url}?topics=room`, { user: 'u1' })
  cleanups.push(() => user.close())
  await expect.poll(() => b.online('room'), { timeout: 10_000 }).toEqual(['u1'])
  const stopping = a.stop()
  await expect.poll(() => b.online('room'), { timeout: 10_000, interval: 20 }).toEqual([])
  await stopping
})
