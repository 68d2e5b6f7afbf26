/**
 * Type tests: the hooks from `createRealtimeHooks<Events>()` and `createQueryHooks<Events>()`
 * accept only the app's event names and payloads, and `apply` must fit the state.
 */
import { describe, expectTypeOf, test } from 'vitest'
import { createRealtimeHooks } from './create-hooks.js'
import { createQueryHooks } from './query/index.js'
import type { ConnectionState, LiveState, RealtimeEvent } from './types.js'

type Message = { id: string; text: string }
type Events = {
  'message.new': Message
  'message.deleted': { id: string }
  count: number
}

const rt = createRealtimeHooks<Events>()
const query = createQueryHooks<Events>()
const snapshot = async () => ({ data: [] as Message[], cursor: 'c' })

describe('event names and payloads', () => {
  test('handlers get the payload of their type', () => {
    rt.useEvent('message.new', (message, meta) => {
      expectTypeOf(message).toEqualTypeOf<Message>()
      expectTypeOf(meta.type).toEqualTypeOf<'message.new'>()
    })
    rt.useEvent('reset', (info) => expectTypeOf(info.reason).toEqualTypeOf<string>())
    expectTypeOf(rt.useLatestEvent('count')).toEqualTypeOf<RealtimeEvent<Events, 'count'> | undefined>()
    expectTypeOf(rt.useEventList('message.deleted')[0]?.data).toEqualTypeOf<{ id: string } | undefined>()
    expectTypeOf(rt.useConnectionState()).toEqualTypeOf<ConnectionState>()
    expectTypeOf(rt.usePresence('room')).toEqualTypeOf<readonly string[]>()
  })

  test('an unknown event name does not compile', () => {
    // @ts-expect-error not an event of the map
    rt.useEvent('message.edited', () => {})
    // @ts-expect-error not an event of the map
    rt.useLatestEvent('message.edited')
    // @ts-expect-error not an event of the map
    rt.useEventList('nope')
    rt.useLiveState({
      key: 'k',
      topics: ['t'],
      // @ts-expect-error not an event of the map
      types: ['message.edited'],
      snapshot,
      apply: (messages) => messages,
    })
  })

  test('a wrong payload type does not compile', () => {
    // @ts-expect-error the payload of message.new has no `body`
    rt.useEvent('message.new', (message) => message.body)
    // @ts-expect-error count's payload is a number
    rt.useEvent('count', (n: string) => n)
    // @ts-expect-error the list's payloads are { id } objects
    expectTypeOf(rt.useEventList('message.deleted')[0]?.data).toEqualTypeOf<number | undefined>()
  })
})

describe('useLiveState', () => {
  test('apply gets the state and the events of the listed types', () => {
    const live = rt.useLiveState({
      key: ['room', 1],
      topics: ['room:1'],
      types: ['message.new', 'message.deleted'],
      snapshot,
      apply: (messages, event) => {
        expectTypeOf(messages).toEqualTypeOf<Message[]>()
        expectTypeOf(event.type).toEqualTypeOf<'message.new' | 'message.deleted'>()
        if (event.type === 'message.new') expectTypeOf(event.data).toEqualTypeOf<Message>()
        else expectTypeOf(event.data).toEqualTypeOf<{ id: string }>()
        return messages
      },
    })
    expectTypeOf(live).toEqualTypeOf<LiveState<Message[]>>()
    expectTypeOf(live.data).toEqualTypeOf<Message[] | undefined>()
  })

  test('a wrong apply signature does not compile', () => {
    rt.useLiveState({
      key: 'k',
      topics: ['t'],
      types: ['message.new'],
      snapshot,
      // @ts-expect-error apply must return the state's type
      apply: (messages) => messages.length,
    })
    rt.useLiveState<Message[], 'message.new'>({
      key: 'k',
      topics: ['t'],
      types: ['message.new'],
      snapshot,
      // @ts-expect-error the state is Message[], not a string
      apply: (text: string) => text,
    })
    rt.useLiveState<Message[], 'count'>({
      key: 'k',
      topics: ['t'],
      types: ['count'],
      snapshot,
      // @ts-expect-error count events carry a number, not a Message
      apply: (messages, event) => [...messages, event.data],
    })
    rt.useLiveState({
      key: 'k',
      topics: ['t'],
      types: ['message.new'],
      // @ts-expect-error the snapshot needs a cursor
      snapshot: async () => ({ data: [] as Message[] }),
      apply: (messages: Message[]) => messages,
    })
  })
})

describe('the TanStack Query bridge', () => {
  test('update gets the cached data and typed events', () => {
    query.useQueryEvents<Message[], 'message.new'>({
      queryKey: ['messages'],
      types: ['message.new'],
      update: (messages, event) => [...messages, event.data],
    })
    query.useQueryEvents<Message[], 'message.new'>({
      queryKey: ['messages'],
      types: ['message.new'],
      // @ts-expect-error update must return the cached data's type
      update: (_messages, event) => event.data,
    })
    query.useQueryEvents({
      queryKey: ['messages'],
      // @ts-expect-error not an event of the map
      types: ['message.edited'],
      update: (messages: Message[]) => messages,
    })
  })
})
