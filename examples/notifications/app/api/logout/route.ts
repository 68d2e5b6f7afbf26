// POST: clears the session cookie and goes back to the login page.
import { notifications } from '../../../lib/server'

export const dynamic = 'force-dynamic'

export function POST(): Response {
  return new Response(null, { status: 303, headers: { location: '/', 'set-cookie': notifications().logoutCookie() } })
}
