// @vitest-environment happy-dom
/**
 * `share` passed through the provider: two provider trees (two tabs of one page, as far as
 * BroadcastChannel can tell) hold one stream on the server between them, and both render
 * every event once.
 */
import { createClient } from '@rt/client/share'
import { cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, expect, test } from 'vitest'
import { moveHappyDomTo, serveHub } from '../test/hub.js'
import { RealtimeProvider } from './provider.js'
import { useEventList } from './use-event-list.js'
import { useTopics } from './use-topics.js'

type Events = { 'note.new': { text: string } }

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  cleanup()
  for (const close of closers.splice(0)) await close()
})

function Notes({ id }: { id: string }) {
  useTopics(['news'])
  const list = useEventList<Events, 'note.new'>('note.new', { max: 10 })
  return <span data-testid={id}>{list.map((event) => event.data.text).join(',')}</span>
}

test('two trees with `share` hold one stream between them and both render every event once', async () => {
  const served = await serveHub<Events>()
  closers.push(served.close)
  moveHappyDomTo(served.url)
  for (const id of ['tab1', 'tab2']) {
    render(
      <RealtimeProvider options={{ url: served.url, share: 'u1', createClient }}>
        <Notes id={id} />
      </RealtimeProvider>,
    )
  }
  await waitFor(() => expect(served.hub.stats().connections).toBe(1), { timeout: 10_000 })
  for (const word of ['a', 'b', 'c'])
    await served.hub.publish({ type: 'note.new', topic: 'news', data: { text: word } })
  await waitFor(() => expect(screen.getByTestId('tab1').textContent).toBe('a,b,c'), { timeout: 10_000 })
  await waitFor(() => expect(screen.getByTestId('tab2').textContent).toBe('a,b,c'), { timeout: 10_000 })
  expect(served.hub.stats().connections).toBe(1)
})

test('`share` without the sharing createClient is refused with a message that names it', () => {
  expect(() =>
    render(
      <RealtimeProvider options={{ url: 'http://127.0.0.1:1/events', share: true }}>
        <span />
      </RealtimeProvider>,
    ),
  ).toThrow(/@rt\/client\/share/)
})
