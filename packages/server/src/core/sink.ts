/**
 * The contract between the hub and an adapter: the hub answers a request with a
 * {@link HubResponse}; for a stream, the adapter hands the hub a {@link StreamSink}.
 * @module
 */

/** Where the hub writes a stream's bytes; each adapter implements one over its transport. */
export interface StreamSink {
  /** Queues bytes for the client. Never called after `end` or `abort`. */
  write(chunk: Uint8Array): void
  /** Bytes written but not yet handed to the network (the transport's own buffer). */
  readonly bufferedBytes: number
  /** Calls `listener` once when the transport's buffer has room again. */
  onDrain(listener: () => void): void
  /** Ends the response cleanly once queued bytes are sent. */
  end(): void
  /** Tears the connection down at once, discarding queued bytes. */
  abort(): void
}

/** What an adapter keeps for an open stream. */
export interface StreamHandle {
  /** The client went away: release the connection. Safe to call more than once. */
  close(): void
}

/** A plain response: an error, or a JSON document. */
export interface HubPlainResponse {
  readonly kind: 'response'
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** An accepted subscription. The adapter must call `open` or, if it cannot, `cancel`. */
export interface HubStreamResponse {
  readonly kind: 'stream'
  readonly status: 200
  readonly headers: Readonly<Record<string, string>>
  open(sink: StreamSink): StreamHandle
  cancel(): void
}

/** The hub's answer to a request, for an adapter to translate. */
export type HubResponse = HubPlainResponse | HubStreamResponse
