/**
 * `npm run demo`: starts every example on the embedded defaults (in-memory store and log;
 * no database, no Redis) and prints one URL per example.
 *
 *   npm run demo            # chat on http://localhost:3000, social on 3001, notifications on 3002
 *   PORT=8080 npm run demo  # chat on 8080, social on 8081, notifications on 8082
 *
 * A port that is taken falls back to a free one. The notifications example is a Next.js
 * app: its first start runs `next build` (about 25 s on two cores), later starts reuse the
 * build until a source changes, as the chat and social examples do with their Vite builds.
 * A production build, not `next dev`: pages load at once instead of compiling on the first
 * visit, and the demo runs what the tests run.
 */
import { startChat } from '../examples/chat/server/start.js'
import { startNotifications } from '../examples/notifications/server/start.js'
import { startSocial } from '../examples/social/server/start.js'

const port = Number(process.env.PORT ?? 3000)
if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got ${port}`)
const host = process.env.HOST || undefined

/** The port `offset` above PORT, or any free port when there is none. */
function next(offset: number): number {
  return port === 0 || port + offset > 65_535 ? 0 : port + offset
}

console.log('rt demo: the examples on the embedded in-memory log (no database, no Redis)')
const chat = await startChat({ port, host })
console.log(`  chat: ${chat.url}`)
console.log(
  'log in as two users: open the chat in two browsers (or a normal and a private window), pick Alice in one and Bob in the other',
)
const social = await startSocial({ port: next(1), host })
console.log(`  social: ${social.url}`)
console.log(
  'log in to social as two users + the admin: three browsers (or private windows), pick Ana and Ben (Ana follows Ben), and Maya for the admin page',
)
const notifications = await startNotifications({
  port: next(2),
  host,
  log: (line) => console.log(`  notifications: ${line}`),
})
console.log(`  notifications: ${notifications.url}`)
console.log(
  'log in to the notifications as an admin and two users: Ada (admin) sends from the form; Alice and Bob, each in another browser, watch their bells',
)

let closing = false
async function shutdown(signal: string): Promise<void> {
  // npm forwards the signal the terminal (or a process-group kill) already sent: once is enough.
  if (closing) return
  closing = true
  console.log(`${signal}: closing`)
  const open = new Set(['chat', 'social', 'notifications'])
  const closed = (name: string) => () => void open.delete(name)
  // Says what is still closing, so a shutdown that hangs names the example that holds it.
  const watchdog = setTimeout(() => console.log(`still closing: ${[...open].join(', ')}`), 5_000)
  await Promise.all([
    chat.close().then(closed('chat')),
    social.close().then(closed('social')),
    notifications.close().then(closed('notifications')),
  ])
  clearTimeout(watchdog)
  console.log('closed')
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
