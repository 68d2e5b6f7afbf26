// The app's one hub, typed with its events; kept on globalThis so dev reloads reuse it.
import { createHub, type Hub } from '@rt/server'

export type Events = { 'message.new': { text: string } }

const cached = globalThis as typeof globalThis & { rtHub?: Hub<Events> }
cached.rtHub ??= createHub<Events>()
export const hub: Hub<Events> = cached.rtHub
