// @vitest-environment happy-dom
/**
 * `useLiveState` against a real hub over real HTTP, with the snapshot served by the same
 * server: events published before, during and after a slow snapshot (head read first,
 * then the data) end in the server's state with every event after the cursor applied
 * once; the same when the position is evicted mid-stream (`rt.reset`, a new snapshot).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { memoryLog } from '@rt/server'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import fc from 'fast-check'
import { StrictMode } from 'react'
import { hydrateRoot } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { afterEach, expect, test } from 'vitest'
import { moveHappyDomTo, type ServedHub, serveHub } from '../test/hub.js'
import { RealtimeProvider } from './provider.js'
import type { LiveSnapshot } from './types.js'
import { useLiveState } from './use-live-state.js'

type Events = { 'item.saved': { n: number }; 'item.removed': { n: number } }
type Items = readonly number[]

interface Op {
  readonly kind: 'item.saved' | 'item.removed'
  readonly n: number
}

/** The app's server side: its data, its writes (data first, then the event), and its snapshot endpoint. */
class App {
  readonly items = new Set<number>()
  /** Ids of events published before the first snapshot read the head. */
  readonly beforeCursor = new Set<string>()
  readonly published: string[] = []
  snapshots = 0
  /** Stream requests received. */
  streams = 0
  /** While closed, stream requests are answered 503 (a network the client cannot reach). */
  gate: { open: boolean; refused: number } = { open: true, refused: 0 }
  private headRead?: () => void
  private holding?: Promise<void>
  served!: ServedHub<Events>

  /** Holds the next snapshot between its head read and its data read until `release` is called. */
  holdSnapshot(): { headRead: Promise<void>; release: () => void } {
    let release!: () => void
    this.holding = new Promise<void>((resolve) => {
      release = resolve
    })
    const headRead = new Promise<void>((resolve) => {
      this.headRead = resolve
    })
    return { headRead, release }
  }

  readonly route = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.url === '/snapshot') {
      void this.snapshot(res)
      return true
    }
    if (req.url?.startsWith('/events')) this.streams++
    if (!this.gate.open && req.url?.startsWith('/events')) {
      this.gate.refused++
      res.writeHead(503).end()
      return true
    }
    return false
  }

  private async snapshot(res: ServerResponse): Promise<void> {
    const cursor = this.served.hub.head()
    if (this.snapshots++ === 0) for (const id of this.published) this.beforeCursor.add(id)
    const holding = this.holding
    this.holding = undefined
    this.headRead?.()
    await holding
    const data: Items = [...this.items].sort((a, b) => a - b)
    const body: LiveSnapshot<Items> = { data, cursor }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  async write(op: Op): Promise<void> {
    if (op.kind === 'item.saved') this.items.add(op.n)
    else this.items.delete(op.n)
    this.published.push(await this.served.hub.publish({ type: op.kind, topic: 'items', data: { n: op.n } }))
  }

  expected(): string {
    return [...this.items].sort((a, b) => a - b).join(',')
  }
}

const apps: App[] = []
afterEach(async () => {
  cleanup()
  for (const app of apps.splice(0)) await app.served.close()
})

async function startApp(capacity = 10_000): Promise<App> {
  const app = new App()
  app.served = await serveHub<Events>({ log: memoryLog({ capacity }) }, app.route)
  apps.push(app)
  moveHappyDomTo(app.served.url)
  return app
}

const fetchSnapshot = () => fetch('/snapshot').then((res) => res.json() as Promise<LiveSnapshot<Items>>)

/** The live list; `applied` counts `apply` calls per event id. */
function ItemList(props: {
  applied: Map<string, number>
  snapshot: () => Promise<LiveSnapshot<Items>>
  initial?: LiveSnapshot<Items>
  stateKey?: string
}) {
  const { data, status } = useLiveState<Items, Events, 'item.saved' | 'item.removed'>({
    key: props.stateKey ?? 'items',
    topics: ['items'],
    types: ['item.saved', 'item.removed'],
    initial: props.initial,
    snapshot: props.snapshot,
    apply(items, event) {
      props.applied.set(event.id, (props.applied.get(event.id) ?? 0) + 1)
      const rest = items.filter((n) => n !== event.data.n)
      return event.type === 'item.saved' ? [...rest, event.data.n].sort((a, b) => a - b) : rest
    },
  })
  return (
    <p>
      <span data-testid="status">{status}</span>
      <span data-testid="items">{data?.join(',') ?? ''}</span>
    </p>
  )
}

function renderItems(app: App, applied: Map<string, number>): void {
  render(
    <RealtimeProvider options={{ url: app.served.url, maxRetryMs: 200 }}>
      <ItemList applied={applied} snapshot={fetchSnapshot} />
    </RealtimeProvider>,
  )
}

const text = (id: string) => screen.getByTestId(id).textContent

/** Publishes a marker and waits for the rendered state to be the server's, marker included. */
async function settle(app: App): Promise<void> {
  await act(() => app.write({ kind: 'item.saved', n: 1_000 }))
  await waitFor(() => expect(text('items')).toBe(app.expected()), { timeout: 8_000 })
  expect(text('status')).toBe('live')
}

const ops = fc.array(
  fc.record({
    kind: fc.constantFrom('item.saved' as const, 'item.removed' as const),
    n: fc.integer({ min: 0, max: 6 }),
  }),
  { maxLength: 6 },
)

test('events before, during and after a slow snapshot are applied once each, after the cursor only', async () => {
  let runs = 0
  let overlapping = 0
  await fc.assert(
    fc.asyncProperty(ops, ops, ops, async (before, during, after) => {
      const app = await startApp()
      try {
        for (const op of before) await app.write(op)
        const applied = new Map<string, number>()
        const { headRead, release } = app.holdSnapshot()
        renderItems(app, applied)
        await headRead
        for (const op of during) await app.write(op)
        release()
        await waitFor(() => expect(text('status')).toBe('live'))
        for (const op of after) await act(() => app.write(op))
        await settle(app)
        for (const id of app.published) expect(applied.get(id) ?? 0, id).toBe(app.beforeCursor.has(id) ? 0 : 1)
        expect([...applied.keys()].every((id) => app.published.includes(id))).toBe(true)
        expect(app.snapshots).toBe(1)
        runs++
        if (during.length > 0) overlapping++
      } finally {
        cleanup()
        await app.served.close()
        apps.splice(apps.indexOf(app), 1)
      }
    }),
    { numRuns: 12 },
  )
  // The property covered the case it is about: writes between the head read and the data read.
  expect(runs).toBe(12)
  expect(overlapping).toBeGreaterThan(0)
})

test('an evicted position mid-stream takes a new snapshot and ends in the server state', async () => {
  await fc.assert(
    fc.asyncProperty(ops, ops, async (before, after) => {
      const app = await startApp(4)
      try {
        for (const op of before) await app.write(op)
        const applied = new Map<string, number>()
        renderItems(app, applied)
        await waitFor(() => expect(text('status')).toBe('live'))
        for (const op of after) await act(() => app.write(op))
        // Cut the stream and keep the client out while more than the log holds is published.
        app.gate.open = false
        app.served.server.closeAllConnections()
        await waitFor(() => expect(app.gate.refused).toBeGreaterThan(0))
        for (let i = 0; i < 6; i++) await app.write({ kind: 'item.saved', n: 100 + i })
        app.gate.open = true
        await settle(app)
        expect(app.snapshots).toBe(2)
        for (const count of applied.values()) expect(count).toBe(1)
      } finally {
        cleanup()
        await app.served.close()
        apps.splice(apps.indexOf(app), 1)
      }
    }),
    { numRuns: 6 },
  )
})

test('a snapshot rendered on the server hydrates and continues from its cursor, with no refetch', async () => {
  const app = await startApp()
  await app.write({ kind: 'item.saved', n: 1 })
  const cursor = app.served.hub.head()
  const initial: LiveSnapshot<Items> = { data: [1], cursor }
  // Published after the server rendered: must arrive through the cursor, once.
  await app.write({ kind: 'item.saved', n: 2 })
  const applied = new Map<string, number>()
  const noSnapshot = () => Promise.reject(new Error('no snapshot expected after hydration'))
  const tree = (
    <RealtimeProvider options={{ url: app.served.url }}>
      <ItemList applied={applied} snapshot={noSnapshot} initial={initial} />
    </RealtimeProvider>
  )
  const container = document.createElement('div')
  container.innerHTML = renderToString(tree)
  document.body.append(container)
  expect(text('items')).toBe('1')
  const errors: unknown[] = []
  const root = hydrateRoot(container, tree, { onRecoverableError: (error) => errors.push(error) })
  await waitFor(() => expect(text('items')).toBe('1,2'))
  await settle(app)
  expect(text('items')).toBe('1,2,1000')
  expect([...applied.values()]).toEqual([1, 1])
  expect(app.snapshots).toBe(0)
  expect(errors).toEqual([])
  act(() => root.unmount())
  container.remove()
})

test('under StrictMode one snapshot and one subscription; a new key takes a new snapshot', async () => {
  const app = await startApp()
  await app.write({ kind: 'item.saved', n: 1 })
  const applied = new Map<string, number>()
  const view = render(
    <StrictMode>
      <RealtimeProvider options={{ url: app.served.url }}>
        <ItemList applied={applied} snapshot={fetchSnapshot} />
      </RealtimeProvider>
    </StrictMode>,
  )
  await waitFor(() => expect(text('status')).toBe('live'))
  await settle(app)
  expect(app.snapshots).toBe(1)
  expect(app.streams).toBe(1)
  expect([...applied.values()]).toEqual([1])
  view.rerender(
    <StrictMode>
      <RealtimeProvider options={{ url: app.served.url }}>
        <ItemList applied={applied} snapshot={fetchSnapshot} stateKey="other" />
      </RealtimeProvider>
    </StrictMode>,
  )
  await waitFor(() => expect(app.snapshots).toBe(2))
  await settle(app)
  // The first key's subscription ended: one stream open.
  await waitFor(() => expect(app.served.hub.stats().connections).toBe(1))
  expect(app.streams).toBe(2)
})
