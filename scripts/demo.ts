/**
 * `npm run demo`: starts every example on the embedded defaults (in-memory store and log;
 * no database, no Redis) and prints one URL per example.
 *
 *   npm run demo            # chat on http://localhost:3000, social on :3001 (or free ports if taken)
 *   PORT=8080 npm run demo  # chat on 8080, social on 8081
 */
import { startChat } from '../examples/chat/server/start.js'
import { startSocial } from '../examples/social/server/start.js'

const port = Number(process.env.PORT ?? 3000)
if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got ${port}`)

console.log('rt demo: the examples on the embedded in-memory log (no database, no Redis)')
const chat = await startChat({ port, host: process.env.HOST || undefined })
console.log(`  chat: ${chat.url}`)
console.log(
  'log in as two users: open the chat in two browsers (or a normal and a private window), pick Alice in one and Bob in the other',
)
const social = await startSocial({
  port: port === 0 || port === 65_535 ? 0 : port + 1,
  host: process.env.HOST || undefined,
})
console.log(`  social: ${social.url}`)
console.log(
  'log in to social as two users + the admin: three browsers (or private windows), pick Ana and Ben (Ana follows Ben), and Maya for the admin page',
)

let closing = false
async function shutdown(signal: string): Promise<void> {
  if (closing) return
  closing = true
  console.log(`${signal}: closing`)
  await Promise.all([chat.close(), social.close()])
  console.log('closed')
}
process.once('SIGINT', () => void shutdown('SIGINT'))
process.once('SIGTERM', () => void shutdown('SIGTERM'))
