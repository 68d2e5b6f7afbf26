/**
 * Runs the notification service on its own:
 *
 *   npm start -w @rt/example-notifications              # in memory, http://localhost:3000
 *   MONGODB_URI='mongodb://…/notifications?replicaSet=rs0' npm start -w @rt/example-notifications
 *   npm run dev -w @rt/example-notifications            # next dev: hot reload for UI work
 *
 * Environment: PORT, HOST, MONGODB_URI, NOTIFICATIONS_SECRET, STRICT_PORT=1,
 * NOTIFICATIONS_HEARTBEAT_MS.
 * @module
 */
import { startNotifications } from './start.js'

/** Stream heartbeat in ms (clients notice a dead stream after ~2.5 of them). */
function heartbeat(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined
  const ms = Number(value)
  if (!Number.isInteger(ms) || ms < 500 || ms > 60_000) {
    throw new Error('NOTIFICATIONS_HEARTBEAT_MS must be 500 to 60000')
  }
  return ms
}

try {
  const running = await startNotifications({
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST || undefined,
    mongodbUri: process.env.MONGODB_URI || undefined,
    strictPort: process.env.STRICT_PORT === '1',
    heartbeatMs: heartbeat(process.env.NOTIFICATIONS_HEARTBEAT_MS),
    dev: process.argv.includes('--dev'),
  })
  console.log(`notifications (${running.mode}): ${running.url}`)
  console.log('log in as Ada (admin) to send; as Alice and Bob (two users) in other browsers to receive')

  let closing = false
  const shutdown = async () => {
    if (closing) return
    closing = true
    await running.close()
    console.log('closed')
  }
  process.once('SIGINT', () => void shutdown())
  process.once('SIGTERM', () => void shutdown())
} catch (error) {
  console.error(`notifications did not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
