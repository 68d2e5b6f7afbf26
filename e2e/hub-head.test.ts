/**
 * `hub.head()` as a snapshot cursor, over real HTTP (long-poll, so each answer is one JSON
 * document): resuming from it yields exactly the events logged after it, on an empty log
 * too, and it follows every publish.
 */
import { createHub } from '@rt/server'
import { afterEach, expect, test } from 'vitest'
import { type Running, serveHub } from './support/servers.js'

interface PollAnswer {
  readonly events: ReadonlyArray<{ id: string; type: string; data: unknown }>
  readonly lastEventId: string
  readonly reset: boolean
}

const running: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const item of running.splice(0).reverse()) await item.close()
})

async function start() {
  const hub = createHub<{ n: number }>()
  const served: Running = await serveHub(hub)
  running.push({ close: () => hub.close() }, served)
  const pollAfter = async (cursor: string): Promise<PollAnswer> => {
    const url = `${served.url}?topics=t&transport=poll&timeout=1000&lastEventId=${encodeURIComponent(cursor)}`
    const res = await fetch(url)
    expect(res.status).toBe(200)
    return (await res.json()) as PollAnswer
  }
  const publish = (n: number) => hub.publish({ type: 'n', topic: 't', data: n })
  return { hub, pollAfter, publish }
}

test('resuming from head() yields exactly the events logged after it', async () => {
  const { hub, pollAfter, publish } = await start()
  await publish(1)
  const second = await publish(2)
  expect(hub.head()).toBe(second)
  const cursor = hub.head()
  const third = await publish(3)
  const fourth = await publish(4)
  expect(hub.head()).toBe(fourth)
  const answer = await pollAfter(cursor)
  expect(answer.reset).toBe(false)
  expect(answer.events.map((event) => event.id)).toEqual([third, fourth])
})

test('the head of an empty log is a position that yields every event', async () => {
  const { hub, pollAfter, publish } = await start()
  const cursor = hub.head()
  expect(typeof cursor).toBe('string')
  const first = await publish(1)
  const second = await publish(2)
  expect(first).not.toBe(cursor)
  const answer = await pollAfter(cursor)
  expect(answer.reset).toBe(false)
  expect(answer.events.map((event) => event.id)).toEqual([first, second])
})
