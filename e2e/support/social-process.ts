/**
 * The social example as its own process (`examples/social/server/main.ts`), and helpers to
 * sign in as its users in Chromium or over plain HTTP.
 */
import type { Page } from 'playwright-core'
import { type ExampleOptions, type ExampleProcess, startExampleProcess } from './example-process.js'

export { logIn } from './example-process.js'

export type SocialProcess = ExampleProcess

export function startSocialProcess(options: ExampleOptions = {}): Promise<SocialProcess> {
  return startExampleProcess('social', { ...options, env: { SOCIAL_HEARTBEAT_MS: '1000', ...options.env } })
}

/** Logs in over HTTP; resolves to the session cookie. */
export async function cookieFor(origin: string, name: string): Promise<string> {
  const res = await fetch(`${origin}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  })
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`)
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string
}

/** Posts as the holder of `cookie`, through the API; resolves to the post's id. */
export async function postAs(origin: string, cookie: string, text: string): Promise<string> {
  const res = await fetch(`${origin}/api/posts`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  })
  if (res.status !== 201) throw new Error(`post failed with ${res.status}`)
  return ((await res.json()) as { post: { id: string } }).post.id
}

/** The texts of the posts in the page's feed, top first. */
export function feedTexts(page: Page): Promise<string[]> {
  return page.$$eval('.posts [data-post] .post-text', (nodes) => nodes.map((n) => n.textContent ?? ''))
}
