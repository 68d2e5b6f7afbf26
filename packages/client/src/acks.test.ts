import { expect, test } from 'vitest'
import { manualTimers, settle } from '../test/manual-timers.js'
import { createAcks } from './acks.js'

function recorder(answers: boolean[] = []) {
  const batches: string[][] = []
  return {
    batches,
    send: async (ids: string[]) => {
      batches.push(ids)
      return answers.shift() ?? true
    },
  }
}

test('ids collected during the delay go out in one batch', async () => {
  const clock = manualTimers()
  const sent = recorder()
  const acks = createAcks(sent.send, clock.timers, 100, 10_000)
  acks.add('1')
  acks.add('2')
  await clock.advance(99)
  expect(sent.batches).toEqual([])
  acks.add('3')
  await clock.advance(1)
  expect(sent.batches).toEqual([['1', '2', '3']])
  expect(clock.pending).toBe(0)
})

test('1,000 ids are sent at once, the most one request may carry', async () => {
  const clock = manualTimers()
  const sent = recorder()
  const acks = createAcks(sent.send, clock.timers, 100, 10_000)
  for (let i = 0; i < 1_001; i++) acks.add(String(i))
  await settle()
  expect(sent.batches.map((b) => b.length)).toEqual([1_000])
  await clock.advance(100)
  expect(sent.batches.map((b) => b.length)).toEqual([1_000, 1])
})

test('a batch that could not be sent is retried with backoff, before newer ids', async () => {
  const clock = manualTimers()
  const sent = recorder([false, false])
  const acks = createAcks(sent.send, clock.timers, 100, 10_000)
  acks.add('1')
  await clock.advance(100)
  acks.add('2')
  // First retry after 100 * 2^1: the new id waits with it rather than going alone.
  expect(clock.nextDelay()).toBe(200)
  await clock.advance(200)
  expect(sent.batches).toEqual([['1'], ['1', '2']])
  expect(clock.nextDelay()).toBe(400)
  await clock.advance(400)
  expect(sent.batches.at(-1)).toEqual(['1', '2'])
  expect(clock.pending).toBe(0)
})

test('a final flush sends what is pending and stops retrying', async () => {
  const clock = manualTimers()
  const sent = recorder([false])
  const acks = createAcks(sent.send, clock.timers, 100, 10_000)
  acks.add('1')
  acks.flush(true)
  await settle()
  expect(sent.batches).toEqual([['1']])
  expect(clock.pending).toBe(0)
})
