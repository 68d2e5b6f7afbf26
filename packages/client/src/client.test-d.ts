import { describe, expectTypeOf, test } from 'vitest'
import { createClient } from './client.js'
import type { Client, ClientOptions, ClientState, ClientUpdate, EventMeta, PresenceInfo, ResetInfo } from './types.js'

type Events = {
  'message.new': { text: string; from: string }
  'user.typing': { userId: string }
  count: number
}

const rt = createClient<Events>({ url: '/events', topics: ['group:42'] })

describe('payload inference', () => {
  test('listeners get the payload and meta of their event type', () => {
    expectTypeOf(rt).toEqualTypeOf<Client<Events>>()
    rt.on('message.new', (data, meta) => {
      expectTypeOf(data).toEqualTypeOf<{ text: string; from: string }>()
      expectTypeOf(meta).toEqualTypeOf<EventMeta<'message.new'>>()
      expectTypeOf(meta.type).toEqualTypeOf<'message.new'>()
      expectTypeOf(meta.id).toEqualTypeOf<string>()
      expectTypeOf(meta.ts).toEqualTypeOf<number>()
    })
    rt.once('count', (data) => expectTypeOf(data).toEqualTypeOf<number>())
    const off = rt.on('user.typing', (data) => expectTypeOf(data.userId).toEqualTypeOf<string>())
    expectTypeOf(off).toEqualTypeOf<() => void>()
  })

  test('reset, presence and state have their own shapes', () => {
    rt.on('reset', (info) => expectTypeOf(info).toEqualTypeOf<ResetInfo>())
    rt.on('presence', (info) => expectTypeOf(info).toEqualTypeOf<PresenceInfo>())
    rt.onState((state) => expectTypeOf(state).toEqualTypeOf<ClientState>())
    expectTypeOf<ClientState>().toEqualTypeOf<'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'closed'>()
  })

  test('without an event map every type is allowed and payloads are unknown', () => {
    const loose = createClient({ url: '/events', topics: ['t'] })
    loose.on('anything', (data, meta) => {
      expectTypeOf(data).toBeUnknown()
      expectTypeOf(meta.type).toEqualTypeOf<'anything'>()
    })
  })
})

describe('wrong types do not compile', () => {
  test('a listener that expects another payload', () => {
    // @ts-expect-error text is a string, not a number
    rt.on('message.new', (data: { text: number }) => data)
    // @ts-expect-error a count is a number
    rt.on('count', (data: string) => data)
    rt.on('message.new', (data) => {
      // @ts-expect-error no such field on the payload
      data.missing
    })
    // @ts-expect-error off takes the listener type of its event
    rt.off('count', (data: { text: string }) => data)
  })

  test('an event type that is not in the map', () => {
    // @ts-expect-error not an event of this map
    rt.on('message.deleted', () => {})
  })

  test('reset and presence listeners take their own shapes', () => {
    // @ts-expect-error a reset carries { reason, topic? }
    rt.on('reset', (info: { text: string }) => info)
    // @ts-expect-error state names are fixed
    rt.onState((state: 'online') => state)
  })

  test('options are checked', () => {
    // @ts-expect-error transport is auto, sse or poll
    createClient({ url: '/events', topics: ['t'], transport: 'websocket' })
    // @ts-expect-error persist is session, local or false
    createClient({ url: '/events', topics: ['t'], persist: true })
    // @ts-expect-error topics are required
    createClient({ url: '/events' })
  })
})

describe('event type filters', () => {
  test('types and update({ types }) take the event map names only', () => {
    createClient<Events>({ url: '/events', topics: ['t'], types: ['message.new', 'count'] })
    // @ts-expect-error not an event type of Events
    createClient<Events>({ url: '/events', topics: ['t'], types: ['message.newx'] })
    rt.update({ types: ['user.typing'] })
    // @ts-expect-error not an event type of Events
    rt.update({ types: ['reset'] })
    expectTypeOf<ClientOptions<Events>['types']>().toEqualTypeOf<
      readonly ('message.new' | 'user.typing' | 'count')[] | undefined
    >()
    expectTypeOf<ClientUpdate<Events>['types']>().toEqualTypeOf<ClientOptions<Events>['types']>()
  })

  test('without an event map any name is accepted', () => {
    const loose = createClient({ url: '/events', topics: ['t'], types: ['anything'] })
    loose.update({ types: ['other'] })
    expectTypeOf<ClientOptions['types']>().toEqualTypeOf<readonly string[] | undefined>()
  })
})
