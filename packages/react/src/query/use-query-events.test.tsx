// @vitest-environment happy-dom
/**
 * The TanStack Query bridge against a real hub over real HTTP: events keep a cached list
 * current without refetching, an event that lands during a fetch is not lost, and an
 * `rt.reset` refetches.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SourceContext } from '@rt/server'
import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, expect, test } from 'vitest'
import { moveHappyDomTo, type ServedHub, serveHub } from '../../test/hub.js'
import { RealtimeProvider } from '../provider.js'
import { useEvent } from '../use-event.js'
import { useQueryEvents } from './use-query-events.js'

type Todo = { id: number; title: string }
type Events = { 'todo.saved': Todo }

/** The app's server side: the todo list, its REST endpoint (which can be held), and its writes. */
class App {
  readonly todos = new Map<number, Todo>()
  fetches = 0
  served!: ServedHub<Events>
  source?: SourceContext<Events>
  private held?: { read: () => void; release: Promise<void> }

  /** Holds the next GET /todos after it read the data, until `release` is called. */
  hold(): { read: Promise<void>; release: () => void } {
    let release!: () => void
    let read!: () => void
    const readPromise = new Promise<void>((resolve) => {
      read = resolve
    })
    this.held = {
      read,
      release: new Promise<void>((resolve) => {
        release = resolve
      }),
    }
    return { read: readPromise, release }
  }

  readonly route = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.url !== '/todos') return false
    void this.list(res)
    return true
  }

  private async list(res: ServerResponse): Promise<void> {
    this.fetches++
    const body = JSON.stringify([...this.todos.values()].sort((a, b) => a.id - b.id))
    const held = this.held
    this.held = undefined
    held?.read()
    await held?.release
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  }

  async save(todo: Todo): Promise<void> {
    this.todos.set(todo.id, todo)
    await this.served.hub.publish({ type: 'todo.saved', topic: 'todos', data: todo })
  }

  expected(): string {
    return [...this.todos.values()]
      .sort((a, b) => a.id - b.id)
      .map((todo) => todo.title)
      .join(',')
  }
}

const apps: App[] = []
afterEach(async () => {
  cleanup()
  for (const app of apps.splice(0)) await app.served.close()
})

async function startApp(): Promise<App> {
  const app = new App()
  app.served = await serveHub<Events>({}, app.route)
  await app.served.hub.attach({
    name: 'test',
    start: (context) => {
      app.source = context
    },
    stop: () => {},
  })
  apps.push(app)
  moveHappyDomTo(app.served.url)
  return app
}

function TodoList({ received }: { received: Todo[] }) {
  const todos = useQuery({
    queryKey: ['todos'],
    queryFn: () => fetch('/todos').then((res) => res.json() as Promise<Todo[]>),
    staleTime: Number.POSITIVE_INFINITY,
  })
  useEvent<Events, 'todo.saved'>('todo.saved', (todo) => received.push(todo))
  useQueryEvents<Todo[], Events, 'todo.saved'>({
    queryKey: ['todos'],
    topics: ['todos'],
    types: ['todo.saved'],
    update: (list, event) =>
      [...list.filter((todo) => todo.id !== event.data.id), event.data].sort((a, b) => a.id - b.id),
  })
  return <span data-testid="todos">{todos.data?.map((todo) => todo.title).join(',') ?? 'loading'}</span>
}

function renderTodos(app: App, received: Todo[] = []) {
  render(
    <QueryClientProvider client={new QueryClient()}>
      <RealtimeProvider options={{ url: app.served.url }}>
        <TodoList received={received} />
      </RealtimeProvider>
    </QueryClientProvider>,
  )
}

const shown = () => screen.getByTestId('todos').textContent

test('events keep the cached list current without refetching', async () => {
  const app = await startApp()
  await app.save({ id: 1, title: 'one' })
  renderTodos(app)
  await waitFor(() => expect(shown()).toBe('one'))
  await waitFor(() => expect(app.served.hub.stats().connections).toBe(1))
  await act(() => app.save({ id: 2, title: 'two' }))
  await act(() => app.save({ id: 1, title: 'one!' }))
  await waitFor(() => expect(shown()).toBe('one!,two'))
  expect(app.fetches).toBe(1)
})

test('an event that arrives while the list is fetched is not lost: the list is fetched again', async () => {
  const app = await startApp()
  await app.save({ id: 1, title: 'one' })
  const received: Todo[] = []
  const { read, release } = app.hold()
  renderTodos(app, received)
  await read
  await waitFor(() => expect(app.served.hub.stats().connections).toBe(1))
  // The fetch has read the data already: this write is not in its answer.
  await act(() => app.save({ id: 2, title: 'two' }))
  await waitFor(() => expect(received).toHaveLength(1))
  release()
  await waitFor(() => expect(shown()).toBe('one,two'))
  expect(app.fetches).toBe(2)
})

test('an rt.reset for the topic refetches the list', async () => {
  const app = await startApp()
  await app.save({ id: 1, title: 'one' })
  renderTodos(app)
  await waitFor(() => expect(shown()).toBe('one'))
  await waitFor(() => expect(app.served.hub.stats().connections).toBe(1))
  // Changed with no event (a source that lost its history): only a refetch can show it.
  app.todos.set(3, { id: 3, title: 'three' })
  await act(async () => {
    await app.source?.reset('todos', 'history_lost')
  })
  await waitFor(() => expect(shown()).toBe(app.expected()))
  expect(shown()).toBe('one,three')
  expect(app.fetches).toBe(2)
})
