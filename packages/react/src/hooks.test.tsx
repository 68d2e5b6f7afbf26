// @vitest-environment happy-dom
/**
 * The hooks against a real hub over real HTTP: events render, handlers change without
 * reconnecting, unmount cleans up, StrictMode opens one connection, and components share it.
 */
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { StrictMode, useState } from 'react'
import { afterEach, expect, test } from 'vitest'
import { moveHappyDomTo, type ServedHub, serveHub } from '../test/hub.js'
import { RealtimeProvider } from './provider.js'
import { useConnectionState } from './use-connection-state.js'
import { useEvent } from './use-event.js'
import { useEventList } from './use-event-list.js'
import { useLatestEvent } from './use-latest-event.js'
import { useTopics } from './use-topics.js'

type Events = { 'note.new': { text: string } }

const servers: ServedHub<Events>[] = []
afterEach(async () => {
  cleanup()
  for (const served of servers.splice(0)) await served.close()
})

async function start(): Promise<ServedHub<Events>> {
  const served = await serveHub<Events>()
  servers.push(served)
  moveHappyDomTo(served.url)
  return served
}

function Latest({ topic }: { topic: string }) {
  useTopics([topic])
  const latest = useLatestEvent<Events, 'note.new'>('note.new')
  const state = useConnectionState()
  return (
    <p>
      <span data-testid="state">{state}</span>
      <span data-testid="latest">{latest?.data.text ?? 'none'}</span>
    </p>
  )
}

test('an event published on the server renders', async () => {
  const { hub, url } = await start()
  render(
    <RealtimeProvider options={{ url }}>
      <Latest topic="news" />
    </RealtimeProvider>,
  )
  await waitFor(() => expect(screen.getByTestId('state').textContent).toBe('open'))
  await act(() => hub.publish({ type: 'note.new', topic: 'news', data: { text: 'hello' } }))
  await waitFor(() => expect(screen.getByTestId('latest').textContent).toBe('hello'))
})

test('StrictMode opens exactly one connection, and two useTopics share it', async () => {
  const { hub, url } = await start()
  render(
    <StrictMode>
      <RealtimeProvider options={{ url }}>
        <Latest topic="a" />
        <Latest topic="b" />
      </RealtimeProvider>
    </StrictMode>,
  )
  await waitFor(() => expect(hub.stats().topics).toEqual({ a: 1, b: 1 }))
  expect(hub.stats().connections).toBe(1)
})
