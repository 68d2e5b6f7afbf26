// POST /publish { text } publishes message.new to the topic lobby, typed from Events.
import { hub } from '../../lib/hub'

export async function POST(request: Request): Promise<Response> {
  const { text } = (await request.json()) as { text: string }
  return Response.json({ id: await hub.publish({ type: 'message.new', topic: 'lobby', data: { text } }) })
}
