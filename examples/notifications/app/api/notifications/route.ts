// GET: the user's bell with its cursor (useLiveState's snapshot after an rt.reset).
// POST: an admin inserts a notification for a user or a role.
import { notifications, readJson, requireUser, route } from '../../../lib/server'

export const dynamic = 'force-dynamic'

export function GET(request: Request): Promise<Response> {
  return route(async () => {
    const user = await requireUser(request)
    return Response.json(await notifications().snapshot(user, 'api'), { headers: { 'cache-control': 'no-store' } })
  })
}

export function POST(request: Request): Promise<Response> {
  return route(async () => {
    const user = await requireUser(request)
    const notification = await notifications().service.send(user, await readJson(request))
    return Response.json({ notification }, { status: 201 })
  })
}
