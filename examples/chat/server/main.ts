/**
 * Runs the chat on its own:
 *
 *   npm start -w @rt/example-chat                 # in memory, http://localhost:3000
 *   MONGODB_URI=mongodb://…/?replicaSet=rs0 npm start -w @rt/example-chat
 *
 * Environment: PORT, HOST, MONGODB_URI, CHAT_SECRET, STRICT_PORT=1.
 * @module
 */
import { startChat } from './start.js'

const chat = await startChat({
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST || undefined,
  mongodbUri: process.env.MONGODB_URI || undefined,
  strictPort: process.env.STRICT_PORT === '1',
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
