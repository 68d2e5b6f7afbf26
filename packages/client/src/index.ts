/**
 * `@rt/client`: a typed, reconnecting Server-Sent Events client with exact resume,
 * long-poll fallback, acknowledgements and resume across page reloads.
 * @module @rt/client
 */
export { createClient } from './client.js'
export { isRtError, RtError, type RtErrorCode } from './errors.js'
export type {
  Client,
  ClientOptions,
  ClientState,
  ClientUpdate,
  EventMap,
  EventMeta,
  EventName,
  EventType,
  HeadersOption,
  Listener,
  PresenceInfo,
  ResetInfo,
  Timers,
  Transport,
} from './types.js'
