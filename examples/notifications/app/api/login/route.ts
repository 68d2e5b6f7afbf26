// POST (a form with `userId`): the dev login. Sets the signed session cookie and goes to
// the admin page (admins) or the bell (everyone else). No passwords: replace with yours.
import { notifications, route } from '../../../lib/server'

export const dynamic = 'force-dynamic'

export function POST(request: Request): Promise<Response> {
  return route(async () => {
    const form = await request.formData()
    const userId = form.get('userId')
    const user = typeof userId === 'string' && userId.length <= 64 ? await notifications().service.user(userId) : null
    if (user === null) return Response.json({ error: { code: 'not_found', message: 'no such user' } }, { status: 404 })
    const headers = new Headers({ location: user.role === 'admin' ? '/admin' : '/notifications' })
    headers.append('set-cookie', notifications().loginCookie(user))
    return new Response(null, { status: 303, headers })
  })
}
