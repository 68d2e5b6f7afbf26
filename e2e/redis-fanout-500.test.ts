/**
 * Fan-out correctness at scale (issue 6, done when 4): 3 hub processes x 500 streams each,
 * read with bare `http.request` readers; every client gets every event exactly once, in
 * the same order on every node.
 */
import { expect, test } from 'vitest'
import { appEventsOf, type HubNode, openRaw, type RawStream, useRedisNodes } from './fixtures/redis-harness.js'

const { nodes, track } = useRedisNodes()

test.each(['bus', 'log'] as const)(
  '3 %s nodes x 500 clients: every client gets every event exactly once, in order',
  async (mode) => {
    const CLIENTS = 500
    const EVENTS = 40
    const all = await nodes(mode, 3)
    const streams: RawStream[] = []
    for (const node of all) {
      const opened = await Promise.all(
        Array.from({ length: CLIENTS }, (_, i) => openRaw(`${node.url}?topics=room,t${i % 10}`)),
      )
      for (const s of opened) streams.push(track(s))
    }
    await Promise.all(streams.map((s) => s.until((e) => e.some((x) => x.event === 'rt.connected'))))
    for (const node of all) expect((await node.stats()).connections).toBe(CLIENTS)

    // Published from all three nodes, one at a time so the expected order is known.
    const ids: string[] = []
    for (let n = 0; n < EVENTS; n++) {
      const published = await (all[n % 3] as HubNode).publish({ type: 'tick', topic: 'room', data: { n } })
      ids.push(published.id as string)
    }
    // And a burst published concurrently: whatever order Redis gave them, every client agrees.
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        (all[n % 3] as HubNode).publish({ type: 'burst', topic: 'room', data: { n } }),
      ),
    )
    expect(burst.every((p) => p.status === 200)).toBe(true)
    await Promise.all(streams.map((s) => s.until((e) => appEventsOf(e).length === EVENTS + 30, 30_000)))
    const reference = appEventsOf(streams[0]?.events ?? []).map((e) => e.id)
    expect(reference.slice(0, EVENTS)).toEqual(ids)
    expect(new Set(reference.slice(EVENTS))).toEqual(new Set(burst.map((p) => p.id)))
    for (const s of streams) {
      const got = appEventsOf(s.events).map((e) => e.id)
      expect(got).toEqual(reference)
    }
    const seqs = reference.map((id = '') => Number(id.slice(id.lastIndexOf('-') + 1)))
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y))
    expect(new Set(seqs).size).toBe(seqs.length)
  },
  60_000,
)
