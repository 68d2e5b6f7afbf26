// GET: the hub's health as JSON (healthReport: connections, the change stream's state,
// last token time and lag); 503 when a source failed. Counts only, no user ids.
import { healthHandler } from '@rt/server/fetch'
import { notifications } from '../../../lib/server'

export const dynamic = 'force-dynamic'

export function GET(request: Request): Response {
  return healthHandler(notifications().hub)(request)
}
