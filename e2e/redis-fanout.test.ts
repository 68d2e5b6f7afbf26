/**
 * Several hub processes on one Redis: what is published on one node reaches the clients of
 * every node, in order, with the same ids (issue 6, done when 1).
 */
import { describe, expect, test } from 'vitest'
import { appEventsOf, type HubNode, openRaw, useRedisNodes } from './fixtures/redis-harness.js'

const { nodes, track } = useRedisNodes()

describe.each(['bus', 'log'] as const)('redis %s', (mode) => {
  test('an event published on node A reaches clients on node B, in order, with the same ids', async () => {
    const [a, b] = (await nodes(mode, 2)) as [HubNode, HubNode]
    const onA = track(await openRaw(`${a.url}?topics=feed`))
    const onB = track(await openRaw(`${b.url}?topics=feed`))
    const targeted = track(await openRaw(`${b.url}?topics=feed`, { user: 'u1' }))
    await onB.until((e) => e.some((x) => x.event === 'rt.connected'))
    const ids: string[] = []
    for (let n = 0; n < 20; n++) {
      const from = n % 3 === 0 ? b : a
      const published = await from.publish({ type: 'post', topic: 'feed', data: { n } })
      expect(published.status).toBe(200)
      ids.push(published.id as string)
    }
    const dm = await a.publish({ type: 'dm', topic: 'feed', data: { n: 'private' }, to: ['u1'] })
    for (const s of [onA, onB]) await s.until((e) => appEventsOf(e).length === 20)
    await targeted.until((e) => appEventsOf(e).length === 21)
    for (const s of [onA, onB]) {
      const got = appEventsOf(s.events)
      expect(got.map((e) => e.id)).toEqual(ids)
      expect(got.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    }
    expect(appEventsOf(targeted.events).map((e) => e.id)).toEqual([...ids, dm.id])
    // Nothing more arrives on the untargeted streams (the dm is not theirs).
    await a.publish({ type: 'post', topic: 'feed', data: { n: 'last' } })
    await onB.until((e) => appEventsOf(e).length === 21)
    expect(appEventsOf(onB.events).at(-1)?.data).toEqual({ n: 'last' })
  })
})
