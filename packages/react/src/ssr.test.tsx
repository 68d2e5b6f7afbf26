/**
 * Server rendering (`react-dom/server`) of a tree using every hook: no request reaches the
 * hub, and `useLiveState` renders the initial data it is given.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { renderToString } from 'react-dom/server'
import { afterEach, expect, test } from 'vitest'
import { type ServedHub, serveHub } from '../test/hub.js'
import { createRealtimeHooks } from './create-hooks.js'
import { useQueryEvents } from './query/use-query-events.js'
import type { LiveSnapshot } from './types.js'

type Events = { 'item.saved': { n: number } }
const rt = createRealtimeHooks<Events>()

function Page({
  initial,
  snapshot,
}: {
  initial: LiveSnapshot<number[]>
  snapshot: () => Promise<LiveSnapshot<number[]>>
}) {
  rt.useTopics(['items'])
  rt.useEvent('item.saved', () => {})
  const state = rt.useConnectionState()
  const latest = rt.useLatestEvent('item.saved')
  const list = rt.useEventList('item.saved', { max: 5 })
  const online = rt.usePresence('items')
  const realtime = rt.useRealtime()
  useQueryEvents<number[], Events, 'item.saved'>({
    queryKey: ['items'],
    types: ['item.saved'],
    update: (items, event) => [...items, event.data.n],
  })
  const live = rt.useLiveState({
    key: 'items',
    topics: ['items'],
    types: ['item.saved'],
    initial,
    snapshot,
    apply: (items, event) => [...items, event.data.n],
  })
  return (
    <main>
      <p id="state">{state}</p>
      <p id="latest">{latest?.data.n ?? 'none'}</p>
      <p id="list">{list.length}</p>
      <p id="online">{online.length}</p>
      <p id="client">{realtime.client === undefined ? 'no client' : 'client'}</p>
      <p id="live">
        {live.status}:{live.data?.join(',')}
      </p>
    </main>
  )
}

const servers: ServedHub<Events>[] = []
afterEach(async () => {
  for (const served of servers.splice(0)) await served.close()
})

test('a tree with every hook renders on the server with no connection and the initial live data', async () => {
  let requests = 0
  const served = await serveHub<Events>({}, () => {
    requests++
    return false
  })
  servers.push(served)
  await served.hub.publish({ type: 'item.saved', topic: 'items', data: { n: 1 } })
  const initial: LiveSnapshot<number[]> = { data: [1, 2, 3], cursor: served.hub.head() }
  let snapshots = 0

  const html = renderToString(
    <QueryClientProvider client={new QueryClient()}>
      <rt.RealtimeProvider options={{ url: served.url, topics: ['items'] }}>
        <Page
          initial={initial}
          snapshot={async () => {
            snapshots++
            return initial
          }}
        />
      </rt.RealtimeProvider>
    </QueryClientProvider>,
  )
  expect(html).toContain('<p id="live">live<!-- -->:<!-- -->1,2,3</p>')
  expect(html).toContain('<p id="state">idle</p>')
  expect(html).toContain('<p id="client">no client</p>')
  // Anything scheduled by rendering has had its turn.
  await new Promise((resolve) => setImmediate(resolve))
  expect(requests).toBe(0)
  expect(snapshots).toBe(0)
  expect(served.hub.stats().connections).toBe(0)
})
