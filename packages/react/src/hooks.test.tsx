// @vitest-environment happy-dom
/**
 * The hooks against a real hub over real HTTP: events render, a new handler identity does
 * not reconnect, unmount cleans up, StrictMode opens one connection (counted on the
 * server), and components that each want topics share one connection.
 */
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { StrictMode, useState } from 'react'
import { afterEach, expect, test, vi } from 'vitest'
import { moveHappyDomTo, type ServedHub, serveHub } from '../test/hub.js'
import { RealtimeProvider } from './provider.js'
import { useConnectionState } from './use-connection-state.js'
import { useEvent } from './use-event.js'
import { useEventList } from './use-event-list.js'
import { useLatestEvent } from './use-latest-event.js'
import { useLiveState } from './use-live-state.js'
import { usePresence } from './use-presence.js'
import { useTopics } from './use-topics.js'

type Events = { 'note.new': { text: string } }

interface Served extends ServedHub<Events> {
  /** Stream requests the server received (each one a connection the client opened). */
  readonly opened: () => number
}

const servers: Served[] = []
afterEach(async () => {
  cleanup()
  for (const served of servers.splice(0)) await served.close()
})

async function start(): Promise<Served> {
  let opened = 0
  const served = await serveHub<Events>(
    { authenticate: (req) => ({ userId: req.headers.get('x-user') ?? undefined }) },
    (req) => {
      if (req.method === 'GET' && req.url?.startsWith('/events')) opened++
      return false
    },
  )
  const running = { ...served, opened: () => opened }
  servers.push(running)
  moveHappyDomTo(served.url)
  return running
}

const text = (id: string) => screen.getByTestId(id).textContent

function Latest({ topic, id = 'latest' }: { topic: string; id?: string }) {
  useTopics([topic])
  const latest = useLatestEvent<Events, 'note.new'>('note.new')
  return <span data-testid={id}>{latest?.data.text ?? 'none'}</span>
}

function List() {
  const list = useEventList<Events, 'note.new'>('note.new', { max: 3 })
  return <span data-testid="list">{list.map((event) => event.data.text).join(',')}</span>
}

function Counter({ calls }: { calls: string[] }) {
  const [count, setCount] = useState(0)
  useTopics(['news'])
  // A fresh closure each render: it must see the current `count`, without resubscribing.
  useEvent<Events, 'note.new'>('note.new', (note) => {
    calls.push(`${note.text}@${count}`)
    setCount(count + 1)
  })
  return <span data-testid="count">{count}</span>
}

function Tree({ url, topics }: { url: string; topics: readonly string[] }) {
  return (
    <RealtimeProvider options={{ url }}>
      <State />
      {topics.map((topic) => (
        <Latest key={topic} topic={topic} id={topic} />
      ))}
    </RealtimeProvider>
  )
}

function Online() {
  return <span data-testid="online">{usePresence('room').join(',')}</span>
}

function State() {
  return <span data-testid="state">{useConnectionState()}</span>
}

test('an event published on the server renders, and the list keeps the newest `max`', async () => {
  const { hub, url } = await start()
  render(
    <RealtimeProvider options={{ url, topics: ['news'] }}>
      <State />
      <Latest topic="news" />
      <List />
    </RealtimeProvider>,
  )
  await waitFor(() => expect(text('state')).toBe('open'))
  for (const word of ['a', 'b', 'c', 'd', 'e']) {
    await act(() => hub.publish({ type: 'note.new', topic: 'news', data: { text: word } }))
  }
  await waitFor(() => expect(text('list')).toBe('c,d,e'))
  expect(text('latest')).toBe('e')
})

test('a handler with a new identity every render is called as it is now, on the same connection', async () => {
  const served = await start()
  const calls: string[] = []
  render(
    <RealtimeProvider options={{ url: served.url }}>
      <State />
      <Counter calls={calls} />
    </RealtimeProvider>,
  )
  await waitFor(() => expect(text('state')).toBe('open'))
  for (const word of ['x', 'y', 'z']) {
    await act(() => served.hub.publish({ type: 'note.new', topic: 'news', data: { text: word } }))
    await waitFor(() => expect(calls.at(-1)?.startsWith(word)).toBe(true))
  }
  await waitFor(() => expect(text('count')).toBe('3'))
  expect(calls).toEqual(['x@0', 'y@1', 'z@2'])
  expect(served.opened()).toBe(1)
})

test('StrictMode opens exactly one connection, and useTopics in two components share it', async () => {
  const served = await start()
  render(
    <StrictMode>
      <RealtimeProvider options={{ url: served.url, topics: ['base'] }}>
        <State />
        <Latest topic="a" id="first" />
        <Latest topic="b" id="second" />
      </RealtimeProvider>
    </StrictMode>,
  )
  await waitFor(() => expect(served.hub.stats().topics).toEqual({ a: 1, b: 1, base: 1 }))
  expect(served.hub.stats().connections).toBe(1)
  expect(served.opened()).toBe(1)
  await act(() => served.hub.publish({ type: 'note.new', topic: 'b', data: { text: 'to b' } }))
  await waitFor(() => expect(text('second')).toBe('to b'))
  // One connection delivers to every listener of the tree.
  expect(text('first')).toBe('to b')
})

test('unmounting a topic narrows the connection; unmounting the last closes it; unmounting the provider cleans up', async () => {
  const served = await start()
  const view = render(<Tree url={served.url} topics={['a', 'b']} />)
  await waitFor(() => expect(served.hub.stats().topics).toEqual({ a: 1, b: 1 }))
  view.rerender(<Tree url={served.url} topics={['a']} />)
  await waitFor(() => expect(served.hub.stats().topics).toEqual({ a: 1 }))
  expect(served.hub.stats().connections).toBe(1)
  // No topic wanted: the server would refuse a stream with none, so the client closes.
  view.rerender(<Tree url={served.url} topics={[]} />)
  await waitFor(() => expect(text('state')).toBe('idle'))
  await waitFor(() => expect(served.hub.stats().connections).toBe(0))
  view.rerender(<Tree url={served.url} topics={['c']} />)
  await waitFor(() => expect(served.hub.stats().topics).toEqual({ c: 1 }))
  view.unmount()
  await waitFor(() => expect(served.hub.stats().connections).toBe(0))
  expect(served.opened()).toBe(3)
})

test('usePresence lists who is connected to a topic', async () => {
  const served = await start()
  render(
    <RealtimeProvider options={{ url: served.url, headers: { 'x-user': 'ada' } }}>
      <Online />
    </RealtimeProvider>,
  )
  await waitFor(() => expect(text('online')).toBe('ada'))
  expect(served.hub.stats().topics).toEqual({ room: 1 })
})

function BadList() {
  useEventList('note.new', { max: 0 })
  return null
}

function BadLiveState() {
  useLiveState({
    key: 'k',
    topics: [],
    types: ['note.new'],
    snapshot: async () => ({ data: 0, cursor: 'c' }),
    apply: (n) => n,
  })
  return null
}

test('invalid options throw a clear error while rendering', async () => {
  const served = await start()
  const quiet = vi.spyOn(console, 'error').mockImplementation(() => {})
  try {
    expect(() =>
      render(
        <RealtimeProvider options={{ url: served.url }}>
          <BadList />
        </RealtimeProvider>,
      ),
    ).toThrow(/useEventList: max must be an integer from 1 to 100000, got 0/)
    expect(() =>
      render(
        <RealtimeProvider options={{ url: served.url }}>
          <BadLiveState />
        </RealtimeProvider>,
      ),
    ).toThrow(/useLiveState: topics must be a non-empty array/)
    expect(() => render(<Latest topic="x" />)).toThrow(/needs a <RealtimeProvider> above it/)
  } finally {
    quiet.mockRestore()
  }
  expect(served.opened()).toBe(0)
})
