/**
 * Bytes of an SSE stream in, messages out: decoding, parsing and the cap on what may be
 * buffered, with no I/O, so that any byte stream can be fed to it.
 * @module
 */
import { createParser } from 'eventsource-parser'
import { RtError } from './errors.js'
import { fromSse, type Message } from './protocol.js'

/** Feeds a chunk; `false` once the cap was exceeded, after which nothing more is read. */
export type SseReader = (chunk: Uint8Array) => boolean

/**
 * Reads one stream. At most `maxSize` characters of an unfinished line plus an unfinished
 * message's data are held: a stream that sends more without a message boundary is an error.
 * `onError` gets an unreadable message (`protocol`: reading goes on) or the overflow
 * (`too_large`: reading stops).
 */
export function createSseReader(
  maxSize: number,
  onMessage: (message: Message) => void,
  onRetry: (ms: number) => void,
  onError: (error: RtError) => void,
): SseReader {
  const decoder = new TextDecoder()
  let overflow = false
  const parser = createParser({
    maxBufferSize: maxSize,
    onRetry,
    onError(error) {
      if (error.type !== 'max-buffer-size-exceeded') return
      overflow = true
      onError(new RtError('too_large', `over ${maxSize} chars`))
    },
    onEvent(event) {
      let message: Message
      try {
        message = fromSse(event)
      } catch (error) {
        return onError(new RtError('protocol', `unreadable ${event.event} event`, { cause: error }))
      }
      onMessage(message)
    },
  })
  return (chunk) => {
    if (!overflow) parser.feed(decoder.decode(chunk, { stream: true }))
    return !overflow
  }
}
