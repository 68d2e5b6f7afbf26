/**
 * `npm run demo`: starts every example on the embedded defaults (in-memory store and log;
 * no database, no Redis) and prints one URL per example.
 *
 *   npm run demo            # chat on http://localhost:3000, notifications on 3001 (or free ports)
 *   PORT=8080 npm run demo  # chat on 8080, notifications on 8081
 *
 * The notifications example is a Next.js app: its first start runs `next build` (about
 * 25 s on two cores), later starts reuse the build until a source changes, as the chat
 * does with its Vite build. A production build, not `next dev`: pages load at once instead
 * of compiling on the first visit, and the demo runs what the tests run.
 */
import { startChat } from '../examples/chat/server/start.js'
import { startNotifications } from '../examples/notifications/server/start.js'

const port = Number(process.env.PORT ?? 3000)
if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got ${port}`)

console.log('rt demo: the examples on the embedded in-memory log (no database, no Redis)')
const chat = await startChat({ port, host: process.env.HOST || undefined })
console.log(`  chat: ${chat.url}`)
console.log(
  'log in as two users: open the chat in two browsers (or a normal and a private window), pick Alice in one and Bob in the other',
)
const notifications = await startNotifications({
  port: port === 0 || port === 65_535 ? 0 : port + 1,
  host: process.env.HOST || undefined,
  log: (line) => console.log(`  notifications: ${line}`),
})
console.log(`  notifications: ${notifications.url}`)
console.log(
  'log in to the notifications as an admin and two users: Ada (admin) sends from the form; Alice and Bob, each in another browser, watch their bells',
)

let closing = false
async function shutdown(signal: string): Promise<void> {
  if (closing) return
  closing = true
  console.log(`${signal}: closing`)
  await Promise.all([chat.close(), notifications.close()])
  console.log('closed')
}
process.once('SIGINT', () => void shutdown('SIGINT'))
process.once('SIGTERM', () => void shutdown('SIGTERM'))
