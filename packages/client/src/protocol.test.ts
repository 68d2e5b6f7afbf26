import { describe, expect, test } from 'vitest'
import { createCursor } from './cursor.js'
import { fromPoll, fromSse, interpret } from './protocol.js'

const event = (id: string, data: unknown = 1, topic = 't') =>
  fromSse({ id, event: 'm', data: JSON.stringify({ topic, ts: 5, data }) })

describe('interpret', () => {
  test('an application event moves the cursor once; its duplicate is dropped', () => {
    const cursor = createCursor()
    expect(interpret(event('1-1', { a: 1 }), cursor)).toEqual({
      kind: 'event',
      data: { a: 1 },
      meta: { id: '1-1', type: 'm', topic: 't', ts: 5 },
    })
    expect(cursor.id).toBe('1-1')
    expect(interpret(event('1-2'), cursor)?.kind).toBe('event')
    expect(interpret(event('1-1'), cursor)).toBeUndefined()
    expect(cursor.id).toBe('1-2')
  })

  test('rt.connected adopts the head id of a fresh stream and keeps the position of a resumed one', () => {
    const cursor = createCursor()
    const fresh = fromSse({ id: '9-0', event: 'rt.connected', data: '{"heartbeatMs":2000}' })
    expect(interpret(fresh, cursor)).toEqual({ kind: 'connected', heartbeatMs: 2000 })
    expect(cursor.id).toBe('9-0')
    interpret(fromSse({ event: 'rt.connected', data: '{"heartbeatMs":2000}' }), cursor)
    expect(cursor.id).toBe('9-0')
  })

  test('a stream-wide reset moves to the head and forgets seen ids (a new log may reuse them)', () => {
    const cursor = createCursor()
    interpret(event('1-1'), cursor)
    const reset = fromSse({ id: '2-0', event: 'rt.reset', data: '{"reason":"unknown"}' })
    expect(interpret(reset, cursor)).toEqual({ kind: 'reset', info: { reason: 'unknown' } })
    expect(cursor.id).toBe('2-0')
    expect(interpret(event('1-1'), cursor)?.kind).toBe('event')
  })

  test('a topic reset is a logged entry: delivered once, with its topic', () => {
    const cursor = createCursor()
    const reset = fromSse({ id: '1-4', event: 'rt.reset', data: '{"reason":"history_lost","topic":"t"}' })
    expect(interpret(reset, cursor)).toEqual({ kind: 'reset', info: { reason: 'history_lost', topic: 't' } })
    expect(cursor.id).toBe('1-4')
    expect(interpret(reset, cursor)).toBeUndefined()
  })

  test('presence and closing pass through; unknown control events and id-less events are ignored', () => {
    const cursor = createCursor('1-1')
    const joined = fromSse({ event: 'rt.presence', data: '{"topic":"t","joined":"u1"}' })
    expect(interpret(joined, cursor)).toEqual({ kind: 'presence', info: { topic: 't', joined: 'u1' } })
    expect(interpret(fromSse({ event: 'rt.closing', data: '{"reason":"shutdown"}' }), cursor)).toEqual({
      kind: 'closing',
    })
    expect(interpret(fromSse({ id: '1-9', event: 'rt.future', data: '{}' }), cursor)).toBeUndefined()
    expect(interpret(fromSse({ event: 'm', data: '{"topic":"t","ts":1,"data":1}' }), cursor)).toBeUndefined()
    expect(cursor.id).toBe('1-1')
  })

  test('data that is not JSON throws, so the client can report it', () => {
    expect(() => fromSse({ id: '1', event: 'm', data: '{nope' })).toThrow(SyntaxError)
  })
})

describe('fromPoll', () => {
  test('events keep their order; topic resets become rt.reset messages with their topic', () => {
    const messages = fromPoll({
      events: [
        { id: '1-1', type: 'm', topic: 'a', ts: 1, data: 'x' },
        { id: '1-2', type: 'rt.reset', topic: 'b', ts: 2, data: { reason: 'history_lost' } },
      ],
      lastEventId: '1-3',
      reset: false,
    })
    const cursor = createCursor()
    expect(messages.map((m) => interpret(m, cursor))).toEqual([
      { kind: 'event', data: 'x', meta: { id: '1-1', type: 'm', topic: 'a', ts: 1 } },
      { kind: 'reset', info: { reason: 'history_lost', topic: 'b' } },
    ])
  })

  test('reset: true comes first as a stream-wide reset at the answer position', () => {
    const cursor = createCursor('0-5')
    const [first, ...rest] = fromPoll({ events: [], lastEventId: '7-0', reset: true, reason: 'evicted' })
    expect(rest).toEqual([])
    expect(interpret(first as NonNullable<typeof first>, cursor)).toEqual({
      kind: 'reset',
      info: { reason: 'evicted' },
    })
    expect(cursor.id).toBe('7-0')
  })
})

describe('createCursor', () => {
  test('remembers only the last `size` ids', () => {
    const cursor = createCursor(undefined, 3)
    for (const id of ['a', 'b', 'c', 'd']) expect(cursor.take(id)).toBe(true)
    expect(cursor.take('b')).toBe(false)
    // 'a' was forgotten when 'd' arrived.
    expect(cursor.take('a')).toBe(true)
    expect(cursor.id).toBe('a')
  })

  test('starts at the seed and moves without recording', () => {
    const cursor = createCursor('s')
    expect(cursor.id).toBe('s')
    cursor.move('m')
    expect(cursor.id).toBe('m')
    expect(cursor.take('m')).toBe(true)
  })
})
