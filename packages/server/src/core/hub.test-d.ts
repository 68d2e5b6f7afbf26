import { expectTypeOf, test } from 'vitest'
import { createHub, type Hub } from './hub.js'

type Events = {
  'message.new': { text: string; from: string }
  'user.typing': { userId: string }
  ping: null
}

test('publish infers the payload from the event type', () => {
  const hub = createHub<Events>()
  expectTypeOf(hub.publish({ type: 'message.new', topic: 'room:1', data: { text: 'hi', from: 'u1' } })).toEqualTypeOf<
    Promise<string>
  >()
  hub.publish({ type: 'ping', topic: 't', data: null, to: ['u1'], key: 'k' })
  // @ts-expect-error wrong payload for the type
  hub.publish({ type: 'message.new', topic: 'room:1', data: { userId: 'u1' } })
  // @ts-expect-error unknown event type
  hub.publish({ type: 'message.deleted', topic: 'room:1', data: {} })
  // @ts-expect-error topic is required
  hub.publish({ type: 'ping', data: null })
})

test('the identity type flows from authenticate to authorize and onAck', () => {
  const hub = createHub<Events, { userId: string; role: 'admin' | 'member' }>({
    authenticate: () => ({ userId: 'u1', role: 'admin' }),
    authorize: (identity, topic) => {
      expectTypeOf(identity.role).toEqualTypeOf<'admin' | 'member'>()
      return topic.length > 0
    },
  })
  hub.onAck((identity, ids, meta) => {
    expectTypeOf(identity.role).toEqualTypeOf<'admin' | 'member'>()
    expectTypeOf(ids).toEqualTypeOf<readonly string[]>()
    expectTypeOf(meta.cumulative).toEqualTypeOf<boolean>()
  })
  expectTypeOf(hub.presence.online('t')).toEqualTypeOf<Promise<string[]>>()
  expectTypeOf(hub).toMatchTypeOf<Pick<Hub, 'handle' | 'stats' | 'close'>>()
})

test('an untyped hub accepts any JSON payload', () => {
  const hub = createHub()
  hub.publish({ type: 'anything', topic: 't', data: { nested: [1, 'two'] } })
})
