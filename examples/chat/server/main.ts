/**
 * Runs the chat on its own:
 *
 *   npm start -w @rt/example-chat                 # in memory, http://localhost:3000
 *   MONGODB_URI=mongodb://…/?replicaSet=rs0 npm start -w @rt/example-chat
 *
 * Environment: PORT, HOST, MONGODB_URI, CHAT_SECRET, STRICT_PORT=1, CHAT_HEARTBEAT_MS.
 * @module
 */
import { startChat } from './start.js'

/** Stream heartbeat in ms (clients notice a dead stream after ~2.5 of them). */
function heartbeat(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined
  const ms = Number(value)
  if (!Number.isInteger(ms) || ms < 500 || ms > 60_000) throw new Error('CHAT_HEARTBEAT_MS must be 500 to 60000')
  return ms
}

const chat = await startChat({
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST || undefined,
  mongodbUri: process.env.MONGODB_URI || undefined,
  strictPort: process.env.STRICT_PORT === '1',
  heartbeatMs: heartbeat(process.env.CHAT_HEARTBEAT_MS),
})
console.log(`chat (${chat.mode}): ${chat.url}`)
console.log(
  'log in as two users: open the URL in two browsers (or a private window), pick Alice in one and Bob in the other',
)

let closing = false
async function shutdown(): Promise<void> {
  if (closing) return
  closing = true
  await chat.close()
  console.log('closed')
}
process.once('SIGINT', () => void shutdown())
process.once('SIGTERM', () => void shutdown())
