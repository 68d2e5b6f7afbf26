/**
 * Runs the feed on its own:
 *
 *   npm start -w @rt/example-social                 # in memory, http://localhost:3001
 *   MONGODB_URI=mongodb://…/?replicaSet=rs0 npm start -w @rt/example-social
 *
 * Environment: PORT, HOST, MONGODB_URI, SOCIAL_SECRET, STRICT_PORT=1, SOCIAL_HEARTBEAT_MS.
 * @module
 */
import { startSocial } from './start.js'

/** Stream heartbeat in ms (clients notice a dead stream after ~2.5 of them). */
function heartbeat(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined
  const ms = Number(value)
  if (!Number.isInteger(ms) || ms < 500 || ms > 60_000) throw new Error('SOCIAL_HEARTBEAT_MS must be 500 to 60000')
  return ms
}

const social = await startSocial({
  port: Number(process.env.PORT ?? 3001),
  host: process.env.HOST || undefined,
  mongodbUri: process.env.MONGODB_URI || undefined,
  strictPort: process.env.STRICT_PORT === '1',
  heartbeatMs: heartbeat(process.env.SOCIAL_HEARTBEAT_MS),
})
console.log(`social (${social.mode}): ${social.url}`)
console.log(
  'log in as two users + the admin: open the URL in three browsers (or private windows), pick Ana, Ben and Maya (admin)',
)

let closing = false
async function shutdown(): Promise<void> {
  if (closing) return
  closing = true
  await social.close()
  console.log('closed')
}
process.once('SIGINT', () => void shutdown())
process.once('SIGTERM', () => void shutdown())
