/**
 * `@rt/client/share`: the client of `@rt/client` with `share`, so the tabs of one browser
 * hold one stream between them, led by one tab and relayed to the others.
 * @module @rt/client/share
 */
export { isRtError, RtError, type RtErrorCode } from '../errors.js'
export type {
  Client,
  ClientOptions,
  ClientState,
  ClientUpdate,
  EventMap,
  EventMeta,
  EventName,
  HeadersOption,
  Listener,
  PresenceInfo,
  ResetInfo,
  Timers,
  Transport,
} from '../types.js'
export { createClient, type SharedClientOptions } from './shared.js'
