// Names the docs' code blocks use without defining them (see e2e/docs-snippets.test.ts):
// what an earlier block of the same page made, and the app's own code the prose leaves out.
// Add a declaration here when a new snippet needs one, in the section of its page.

// ---- Shared by several pages: the event map, the hub and the client of the examples -------
type Events = {
  'message.new': { id: string; text: string; from?: string }
  'message.deleted': { id: string }
}
declare const hub: import('@rt/server').Hub<Events, { userId: string }>
declare const rt: import('@rt/client').Client<Events>
/** Continuation blocks call the factories an earlier block imported. */
declare const createHub: typeof import('@rt/server').createHub
declare const createClient: typeof import('@rt/client').createClient
declare const toNodeHandler: typeof import('@rt/server/node').toNodeHandler
declare const toFetchHandler: typeof import('@rt/server/fetch').toFetchHandler
declare const mongoChangeStream: typeof import('@rt/server/mongo').mongoChangeStream
declare const mongoTokenStore: typeof import('@rt/server/mongo').mongoTokenStore
declare const mongoLog: typeof import('@rt/server/mongo').mongoLog
type Checkpoint = import('@rt/server/mongo').Checkpoint
type LeaseStore = import('@rt/server/mongo').LeaseStore

// ---- The host app -----------------------------------------------------------------------
declare const app: import('express').Express
declare const server: import('node:http').Server
/** A Koa router (`@koa/router`), reduced to what the Koa block uses. */
declare const router: {
  all(
    path: string,
    handler: (ctx: {
      req: import('node:http').IncomingMessage
      res: import('node:http').ServerResponse
      respond: boolean
    }) => unknown,
  ): void
}
declare const Bun: {
  serve(options: { port?: number; fetch(request: Request): Response | Promise<Response> }): unknown
}
declare const Deno: {
  serve(options: { port?: number }, handler: (request: Request) => Response | Promise<Response>): unknown
}
/** `app/events/route.ts` importing the hub module through Next.js's default `@/` alias. */
declare module '@/lib/hub' {
  export const hub: import('@rt/server').Hub
}

// ---- Auth (README, server.md, client.md, scaling.md) --------------------------------------
declare function sessionFrom(cookie: string | null): Promise<{ userId: string } | null>
declare const sessions: { fromCookie(cookie: string | null): Promise<{ userId: string } | null> }
declare const rooms: { isMember(roomId: string, userId: string): Promise<boolean> }
declare const authenticate: (req: import('@rt/server').RtRequest) => Promise<{ userId: string } | null>
declare const authorize: (identity: import('@rt/server').Identity, topic: string) => boolean
declare function getToken(): Promise<string>
declare function refreshToken(): Promise<string>
declare const auth: { token(): Promise<string> }
declare const session: { token: string; refresh(): Promise<boolean> }
declare const receipts: {
  markDelivered(userId: string, ids: readonly string[], cumulative: boolean): Promise<void>
}

// ---- UI callbacks (client.md) -------------------------------------------------------------
declare function addMessage(message: Events['message.new'], ts: number): void
declare function removeMessage(id: string): void
declare function reloadMessages(): void
declare function setBadge(state: import('@rt/client').ClientState): void
declare function reloadTopic(topic: string): void
declare function reloadEverything(): void
declare function setOnline(topic: string, userIds: readonly string[]): void
declare function addOnline(topic: string, userId: string): void
declare function removeOnline(topic: string, userId: string): void

// ---- MongoDB and Redis (mongodb.md, scaling.md) -------------------------------------------
declare const db: import('mongodb').Db
declare const collection: import('mongodb').Collection<{ groupId: string; text: string }>
declare const map: import('@rt/server/mongo').MongoChangeStreamOptions<Events, { groupId: string; text: string }>['map']
declare const options: import('@rt/server/mongo').MongoChangeStreamOptions<Events, { groupId: string; text: string }>
declare const url: string

// ---- React guide (docs/react.md) ----------------------------------------------------------
// The guide's app modules: `./events` (its event map), `./realtime` (the typed hooks made by
// `createRealtimeHooks<Events>()`), and the Next.js files imported by path or `@/` alias.
type ReactGuideNote = { id: number; text: string }
type ReactGuideMessage = { id: string; text: string; roomId: string; at: string }
type ReactGuideEvents = {
  'note.saved': ReactGuideNote
  'message.new': ReactGuideMessage
  'message.deleted': { id: string }
  'price.changed': { amount: number }
  notice: { text: string }
}
declare module '*/events' {
  export type Note = ReactGuideNote
  export type Message = ReactGuideMessage
  export type Events = ReactGuideEvents
}
declare module '*/realtime' {
  const hooks: import('@rt/react').RealtimeHooks<ReactGuideEvents>
  export const RealtimeProvider: typeof hooks.RealtimeProvider
  export const useRealtime: typeof hooks.useRealtime
  export const useEvent: typeof hooks.useEvent
  export const useConnectionState: typeof hooks.useConnectionState
  export const useLatestEvent: typeof hooks.useLatestEvent
  export const useEventList: typeof hooks.useEventList
  export const usePresence: typeof hooks.usePresence
  export const useTopics: typeof hooks.useTopics
  export const useLiveState: typeof hooks.useLiveState
}
declare module '*/hub' {
  export const hub: import('@rt/server').Hub<ReactGuideEvents>
}
declare module '@/lib/messages' {
  export function messagesSnapshot(roomId: string): Promise<import('@rt/react').LiveSnapshot<ReactGuideMessage[]>>
}
declare module '*/room' {
  export function Room(props: {
    roomId: string
    initial: import('@rt/react').LiveSnapshot<ReactGuideMessage[]>
  }): import('react').ReactNode
}
declare function refetchEverything(): void
declare function toast(text: string): void
declare function fetchTodos(): Promise<{ id: string; title: string; done: boolean }[]>
declare function List(props: { items: readonly { id: string; title: string }[] | undefined }): import('react').ReactNode
