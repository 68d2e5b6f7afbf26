// GET /events streams a user's events (SSE, or long-poll with ?transport=poll); POST /events takes acks.
import { toFetchHandler } from '@rt/server/fetch'
import { notifications } from '../../lib/server'

let handler: ((request: Request) => Promise<Response>) | undefined

export function GET(request: Request): Promise<Response> {
  handler ??= toFetchHandler(notifications().hub)
  return handler(request)
}
export const POST = GET
export const dynamic = 'force-dynamic' // never cache or prerender a stream
