// POST (a form with `userId`): the dev login. Sets the signed session cookie and goes to
// the admin page (admins) or the bell (everyone else). No passwords: replace with yours.

import { notifications, route } from '../../../lib/server'
import { AppError } from '../../../server/errors'

export const dynamic = 'force-dynamic'

export function POST(request: Request): Promise<Response> {
  return route(async () => {
    const text = await request.text()
    if (text.length > 1_024) throw new AppError('bad_request', 'request body is too large')
    const userId = new URLSearchParams(text).get('userId')
    const user = userId !== null && userId.length <= 64 ? await notifications().service.user(userId) : null
    if (user === null) throw new AppError('not_found', 'no such user')
    const headers = new Headers({ location: user.role === 'admin' ? '/admin' : '/notifications' })
    headers.append('set-cookie', notifications().loginCookie(user))
    return new Response(null, { status: 303, headers })
  })
}
