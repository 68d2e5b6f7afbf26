// POST { ids: [...] } or { all: true }: marks the user's notifications read; their tabs hear it.
import { notifications, readJson, requireUser, route } from '../../../../lib/server'

export const dynamic = 'force-dynamic'

export function POST(request: Request): Promise<Response> {
  return route(async () => {
    const user = await requireUser(request)
    await notifications().service.read(user, await readJson(request))
    return new Response(null, { status: 204 })
  })
}
