/**
 * `@rt/react` in a real browser: a page built by Vite (e2e/fixtures/react-page) is served
 * with its hub by node:http and opened in headless Chromium; it shows the snapshot, then
 * live events, with one shared stream and one live-state stream even under StrictMode.
 * Saves a screenshot to e2e/.output/react-vite.png.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHub } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import { build, defaultClientConditions } from 'vite'
import { afterAll, expect, test } from 'vitest'
import type { Events, Note } from './fixtures/react-page/main.js'
import { type Chromium, launchChromium } from './support/browser.js'
import { serveListener } from './support/servers.js'

const PAGE_ROOT = fileURLToPath(new URL('./fixtures/react-page/', import.meta.url))
const OUTPUT = fileURLToPath(new URL('./.output/', import.meta.url))
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
}

const cleanup: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** Builds the page for production into a temporary directory, from the packages' sources. */
async function buildPage(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'rt-react-page-'))
  cleanup.push(() => rm(outDir, { recursive: true, force: true }))
  await build({
    root: PAGE_ROOT,
    configFile: false,
    logLevel: 'silent',
    resolve: { conditions: ['@rt/source', ...defaultClientConditions] },
    build: { outDir, emptyOutDir: true },
  })
  return outDir
}

test('a Vite-built page shows the snapshot, then live events in Chromium: one shared stream and one for the live state', async () => {
  const outDir = await buildPage()
  const hub = createHub<Events>({ heartbeatMs: 1_000 })
  cleanup.push(() => hub.close())
  const notes = new Map<number, Note>()
  const save = async (note: Note) => {
    notes.set(note.id, note)
    await hub.publish({ type: 'note.saved', topic: 'notes', data: note })
  }
  await save({ id: 1, text: 'Snapshot: written before the page loaded' })
  let streams = 0
  const events = toNodeHandler(hub)
  const running = await serveListener(async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname
    if (path === '/events') {
      if (req.method === 'GET') streams++
      return events(req, res)
    }
    if (path === '/api/notes') {
      const cursor = hub.head()
      const data = [...notes.values()].sort((a, b) => a.id - b.id)
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data, cursor }))
    }
    const file = normalize(join(outDir, path === '/' ? 'index.html' : path))
    if (!file.startsWith(outDir)) return res.writeHead(404).end()
    try {
      const body = await readFile(file)
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body)
    } catch {
      res.writeHead(404).end()
    }
  })
  cleanup.push(() => running.close())

  const chromium: Chromium = await launchChromium()
  cleanup.push(() => chromium.close())
  const { page, problems } = await chromium.open(`${running.origin}/`)
  await page.waitForSelector('#state[data-state="open"]')
  await page.waitForFunction(() => document.querySelector('#live-status')?.textContent === 'live')
  expect(await page.locator('#notes li').allTextContents()).toEqual(['Snapshot: written before the page loaded'])

  await save({ id: 2, text: 'Live: published while the page was open' })
  await save({ id: 3, text: 'Live: a second event, applied once' })
  await save({ id: 1, text: 'Snapshot: edited live' })
  await page.waitForFunction(() => document.querySelectorAll('#feed li').length === 3)
  await page.waitForFunction(() => document.querySelector('#notes li')?.textContent === 'Snapshot: edited live')
  expect(await page.locator('#notes li').allTextContents()).toEqual([
    'Snapshot: edited live',
    'Live: published while the page was open',
    'Live: a second event, applied once',
  ])
  // StrictMode: one shared stream (useTopics) and one for the live state's cursor.
  expect(streams).toBe(2)
  expect(hub.stats().connections).toBe(2)
  expect(problems).toEqual([])

  await mkdir(OUTPUT, { recursive: true })
  await page.screenshot({ path: join(OUTPUT, 'react-vite.png') })
})
