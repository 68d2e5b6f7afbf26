import type { ServerResponse } from 'node:http'
import type { HubResponse, StreamSink } from '../index.js'

class NodeSink implements StreamSink {
  constructor(private readonly res: ServerResponse) {}
  write(chunk: Uint8Array): void {
    this.res.write(chunk)
  }
  get bufferedBytes(): number {
    return this.res.writableLength
  }
  onDrain(listener: () => void): void {
    this.res.once('drain', listener)
  }
  end(): void {
    this.res.end()
  }
  abort(): void {
    this.res.destroy()
  }
}

/** Writes the hub's answer to a Node response, streaming when the hub accepted a subscription. */
export function sendNodeResponse(response: HubResponse, res: ServerResponse): void {
  if (response.kind === 'response') {
    if (res.headersSent || res.destroyed) return
    res.writeHead(response.status, response.headers)
    res.end(response.body)
    return
  }
  if (res.destroyed) {
    response.cancel()
    return
  }
  res.writeHead(response.status, response.headers)
  // Each event is one small write; send it now rather than waiting to fill a packet.
  res.socket?.setNoDelay(true)
  const stream = response.open(new NodeSink(res))
  res.once('close', () => stream.close())
}
