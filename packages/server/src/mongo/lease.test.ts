import { describe, expect, test } from 'vitest'
import { manualClock } from '../../test/mongo-support/clock.js'
import { createLeader } from './lease.js'
import { memoryTokenStore } from './token-store.js'

function node(store: ReturnType<typeof memoryTokenStore>, holder: string, clock: ReturnType<typeof manualClock>) {
  const events: string[] = []
  const leader = createLeader({
    store: store.lease!,
    name: 'src',
    holder,
    ttlMs: 3_000,
    renewMs: 1_000,
    timers: clock.timers,
    onAcquire: () => events.push('acquire'),
    onLose: async () => {
      events.push('lose')
    },
    onError: (error) => events.push(`error:${(error as Error).message}`),
  })
  return { leader, events }
}

describe('createLeader', () => {
  test('one holder at a time; the other takes over within ttl + renew after the holder dies', async () => {
    const clock = manualClock()
    const store = memoryTokenStore({ now: clock.timers.now })
    const a = node(store, 'a', clock)
    const b = node(store, 'b', clock)
    await a.leader.start()
    await b.leader.start()
    expect([a.leader.held, b.leader.held]).toEqual([true, false])
    await clock.advance(10_000)
    expect([a.leader.held, b.leader.held]).toEqual([true, false])
    expect(a.events).toEqual(['acquire'])

    // a dies: it stops renewing without releasing.
    await a.leader.pause()
    const diedAt = clock.timers.now()
    while (!b.leader.held) await clock.advance(100)
    const takeover = clock.timers.now() - diedAt
    expect(takeover).toBeGreaterThan(0)
    expect(takeover).toBeLessThanOrEqual(3_000 + 1_000)
    expect(b.events).toEqual(['acquire'])
    await b.leader.pause()
  })

  test('a clean stop releases the lease: the other takes over at its next attempt', async () => {
    const clock = manualClock()
    const store = memoryTokenStore({ now: clock.timers.now })
    const a = node(store, 'a', clock)
    const b = node(store, 'b', clock)
    await a.leader.start()
    await b.leader.start()
    await a.leader.pause()
    await a.leader.release()
    await clock.advance(1_000)
    expect(b.leader.held).toBe(true)
    await b.leader.pause()
    expect(clock.pending).toBe(0)
  })

  test('a holder that cannot renew stops before the lease expires; one that lost it stops at once', async () => {
    const clock = manualClock()
    const store = memoryTokenStore({ now: clock.timers.now })
    let broken = false
    const lease = store.lease!
    const flaky = {
      ...lease,
      renew: async (name: string, holder: string, ttl: number) => {
        if (broken) throw new Error('network down')
        return lease.renew(name, holder, ttl)
      },
    }
    const events: string[] = []
    const leader = createLeader({
      store: flaky,
      name: 'src',
      holder: 'a',
      ttlMs: 3_000,
      renewMs: 1_000,
      timers: clock.timers,
      onAcquire: () => events.push('acquire'),
      onLose: async () => {
        events.push(`lose@${clock.timers.now()}`)
      },
      onError: () => events.push('error'),
    })
    const start = clock.timers.now()
    await leader.start()
    broken = true
    await clock.advance(2_000)
    expect(leader.held).toBe(false)
    // Renewed last at `start`; the lease expires at start + 3000: it stopped before that.
    expect(events).toEqual(['acquire', 'error', 'error', `lose@${start + 2_000}`])

    // Re-acquired, then another holder steals it (say after a long pause): lost at the next renewal.
    broken = false
    await clock.advance(1_000)
    expect(leader.held).toBe(true)
    await lease.release('src', 'a')
    expect(await lease.acquire('src', 'intruder', 60_000)).toBe(true)
    await clock.advance(1_000)
    expect(leader.held).toBe(false)
    expect(events.at(-1)).toBe(`lose@${clock.timers.now()}`)
    await leader.pause()
  })
})
