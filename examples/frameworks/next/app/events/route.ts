// GET /events streams (SSE, or long-poll with ?transport=poll); POST /events takes acks.
import { toFetchHandler } from '@rt/server/fetch'
import { hub } from '../../lib/hub'

export const GET = toFetchHandler(hub)
export const POST = GET
export const dynamic = 'force-dynamic' // never cache or prerender a stream
