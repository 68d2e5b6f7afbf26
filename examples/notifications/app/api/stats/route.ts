// GET: how many bell snapshots were served, by the page render and by the API; the
// hydration test uses it to prove the page does not fetch its list again on load.
import { notifications } from '../../../lib/server'

export const dynamic = 'force-dynamic'

export function GET(): Response {
  return Response.json({ snapshots: notifications().snapshots }, { headers: { 'cache-control': 'no-store' } })
}
