/**
 * The chat example as its own process (`examples/chat/server/main.ts`), so a test can kill
 * it and start it again on the same port, and sign in as its users in Chromium.
 */
import type { Page } from 'playwright-core'
import { type ExampleOptions, type ExampleProcess, startExampleProcess } from './example-process.js'

export { logIn } from './example-process.js'

export type ChatProcess = ExampleProcess

export function startChatProcess(options: ExampleOptions = {}): Promise<ChatProcess> {
  return startExampleProcess('chat', { ...options, env: { CHAT_HEARTBEAT_MS: '1000', ...options.env } })
}

/** Snapshot requests the chat server answered so far. */
export async function snapshotCounts(
  origin: string,
): Promise<{ groups: number; messages: number; notifications: number }> {
  const res = await fetch(`${origin}/api/stats`)
  return ((await res.json()) as { snapshots: { groups: number; messages: number; notifications: number } }).snapshots
}

/** Sends a message as the user logged in on `page`, through the API (as its UI does). */
export async function sendAs(page: Page, groupId: string, text: string): Promise<void> {
  const status = await page.evaluate(
    async ([group, body]) => {
      const res = await fetch(`/api/groups/${group}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: body }),
      })
      return res.status
    },
    [groupId, text] as const,
  )
  if (status !== 201) throw new Error(`send failed with ${status}`)
}

/** The texts of the open conversation's messages, in order. */
export function messageTexts(page: Page): Promise<string[]> {
  return page.$$eval('[data-open-group] [data-message] .text', (nodes) => nodes.map((n) => n.textContent ?? ''))
}
