/**
 * `@rt/server`: the hub, the in-memory log and the adapter contract. Web-standard APIs
 * only, so the same hub runs on Node, Bun, Deno and edge runtimes; framework adapters live
 * in `@rt/server/node`, `@rt/server/fetch` and `@rt/server/fastify`.
 * @module @rt/server
 */
export { isRtError, RtError, type RtErrorCode } from './core/errors.js'
export { type HealthOptions, type HealthReport, healthReport } from './core/health.js'
export { createHub, type Hub } from './core/hub.js'
export type { Log, LogAppend, LogEntry, LogFilter, LogGap, LogRead, LogStatus } from './core/log.js'
export { matchesFilter } from './core/log.js'
export { type MemoryLogOptions, memoryLog } from './core/memory-log.js'
export { countOption, durationOption, MAX_TIMER_MS } from './core/options.js'
export type { OriginsOption } from './core/origins.js'
export type { PresenceBackend, PresenceChange } from './core/presence.js'
export type {
  HubPlainResponse,
  HubResponse,
  HubStreamResponse,
  StreamHandle,
  StreamSink,
} from './core/sink.js'
export type {
  AckListener,
  AckMeta,
  EventMap,
  HubOptions,
  HubStats,
  Identity,
  PublishInput,
  RtRequest,
  Source,
  SourceContext,
  SourceStatus,
  Timers,
} from './core/types.js'
export { ControlEvent, type ResetReason } from './core/wire.js'
