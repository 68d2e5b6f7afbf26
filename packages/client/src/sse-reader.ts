/**
 * Bytes of an SSE stream in, messages out: decoding, parsing and the cap on what may be
 * buffered, with no I/O, so that any byte stream can be fed to it.
 * @module
 */
import { RtError } from './errors.js'
import { fromSse, type Message } from './protocol.js'

/** Feeds a chunk; `false` once the cap was exceeded, after which nothing more is read. */
export type SseReader = (chunk: Uint8Array) => boolean

/** A line end; a CR that ends the text waits, as it may be the first half of a CRLF. */
const LINE_END = /\r\n|\r(?!$)|\n/

/**
 * Reads one stream, as the WHATWG spec reads it (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
 * with eventsource-parser's choices: an id belongs to its own event, lines are read when a
 * chunk with a line end arrives, and a UTF-8 BOM read as Latin-1 at the head is dropped.
 * At most `maxSize` characters of an unfinished line plus an unfinished message's data are
 * held: a stream that sends more without a message boundary is an error. `onError` gets an
 * unreadable message (`protocol`: reading goes on) or the overflow (`too_large`: reading stops).
 */
export function createSseReader(
  maxSize: number,
  onMessage: (message: Message) => void,
  onRetry: (ms: number) => void,
  onError: (error: RtError) => void,
): SseReader {
  const decoder = new TextDecoder()
  let head = true
  let overflow = false
  /** The text after the last line end. */
  let rest = ''
  let id: string | undefined
  let event: string | undefined
  /** The message's data lines joined; `undefined` until one arrives. */
  let data: string | undefined

  function dispatch(body: string): void {
    let message: Message
    try {
      message = fromSse({ id, event, data: body })
    } catch (error) {
      onError(new RtError('protocol', `unreadable ${event} event`, { cause: error }))
      return
    }
    onMessage(message)
  }

  function read(line: string): void {
    if (line === '') {
      if (data !== undefined) dispatch(data)
      id = event = data = undefined
      return
    }
    // A comment (`:…`) has an empty field name, which matches none below.
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`
    else if (field === 'event') event = value || undefined
    else if (field === 'id') id = value.includes('\0') ? id : value
    else if (field === 'retry' && /^\d+$/.test(value)) onRetry(+value)
  }

  return (chunk) => {
    if (overflow) return false
    let text = decoder.decode(chunk, { stream: true })
    if (head && text.startsWith('\u00ef\u00bb\u00bf')) text = text.slice(3)
    head = false
    rest += text
    // Only a chunk with a line end can complete a line: one without is not scanned again.
    if (/[\r\n]/.test(text)) {
      const lines = rest.split(LINE_END)
      rest = lines.pop() as string
      for (const line of lines) read(line)
    }
    if (rest.length + (data?.length ?? 0) > maxSize) {
      overflow = true
      onError(new RtError('too_large', `over ${maxSize} chars`))
    }
    return !overflow
  }
}
