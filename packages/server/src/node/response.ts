/** Writes the hub's answers to a Node response: HTTP/1.x straight to the socket, HTTP/2 through its stream. */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { HubResponse, StreamHandle, StreamSink } from '../index.js'
import { isGone, type NodeResponse } from './request.js'

const EMPTY = new Uint8Array(0)

/**
 * Writes through the response: HTTP/2 (one stream of a multiplexed connection, where
 * the socket is shared and connection headers are illegal), pipelined requests, anything unusual.
 */
class ResponseSink implements StreamSink {
  // Both responses write alike; their overloads differ only in what rt never passes.
  private readonly res: ServerResponse
  constructor(res: NodeResponse) {
    this.res = res as ServerResponse
  }
  write(chunk: Uint8Array): void {
    this.res.write(chunk)
  }
  get bufferedBytes(): number {
    return this.res.writableLength
  }
  onDrain(listener: () => void): void {
    // Not 'drain': it follows only a write that passed the high-water mark, and the hub may
    // wait below it. An empty write's callback runs once the bytes before it are sent.
    if (this.res.writableEnded) queueMicrotask(listener)
    else this.res.write(EMPTY, () => listener())
  }
  end(): void {
    this.res.end()
  }
  abort(): void {
    this.res.destroy()
  }
}

/**
 * Writes straight to the socket of an HTTP/1.x response sent without chunked framing (the
 * stream ends when the connection closes, as SSE streams do anyway). This skips the
 * per-write work of `res.write` and chunk headers: per-write cost is what fan-out pays.
 */
class SocketSink implements StreamSink {
  constructor(
    private readonly res: ServerResponse,
    private readonly socket: Socket,
  ) {}
  write(chunk: Uint8Array): void {
    this.socket.write(chunk)
  }
  get bufferedBytes(): number {
    return this.socket.writableLength
  }
  onDrain(listener: () => void): void {
    // As in ResponseSink; this also answers (with an error) once the socket is destroyed.
    if (this.socket.writableEnded) queueMicrotask(listener)
    else this.socket.write(EMPTY, () => listener())
  }
  end(): void {
    this.res.end()
  }
  abort(): void {
    this.socket.destroy()
  }
}

function openSink(res: NodeResponse, status: number, headers: Readonly<Record<string, string>>): StreamSink {
  if ('stream' in res) {
    res.writeHead(status, headers)
    // Sends the HEADERS frame now (Node's typings omit it on HTTP/2 responses).
    ;(res as unknown as ServerResponse).flushHeaders()
    return new ResponseSink(res)
  }
  const socket = res.socket
  // Not when middleware chose its own framing: raw bytes under a chunked header corrupt the body.
  const direct = socket !== null && res.req.httpVersionMajor === 1 && !res.hasHeader('transfer-encoding')
  if (direct) {
    // Decided when the head is written: no chunked framing, the connection closes at the end.
    res.useChunkedEncodingByDefault = false
    res.shouldKeepAlive = false
  }
  res.writeHead(status, headers)
  res.flushHeaders()
  // The headers reached the socket only if this response owns it (no pipelined request ahead).
  if (direct && res.writableLength === 0) return new SocketSink(res, socket)
  return new ResponseSink(res)
}

/** Writes the hub's answer to a Node response, streaming when the hub accepted a subscription. */
export function sendNodeResponse(response: HubResponse, res: NodeResponse): void {
  if (response.kind === 'response') {
    if (res.headersSent || isGone(res)) return
    res.writeHead(response.status, response.headers)
    res.end(response.body)
    return
  }
  if (isGone(res)) {
    response.cancel()
    return
  }
  // Each event is one small write; send it now rather than waiting to fill a packet. (On
  // HTTP/2 this reaches the session's socket, shared by every stream of the connection.)
  res.socket?.setNoDelay(true)
  let sink: StreamSink
  try {
    sink = openSink(res, response.status, response.headers)
  } catch (error) {
    // Middleware already sent a head, say: free the reservation, then let the caller report.
    response.cancel()
    throw error
  }
  const stream: StreamHandle = response.open(sink)
  // A pipelined response waits behind the one before it without a socket of its own, and
  // Node never emits its `close` when the connection dies: watch the connection as well.
  // (HTTP/2 has no pipelining; its stream's `close` says it all.)
  const connection = 'stream' in res ? undefined : res.req.socket
  const close = () => {
    connection?.off('close', close)
    stream.close()
  }
  res.once('close', close)
  connection?.once('close', close)
}
