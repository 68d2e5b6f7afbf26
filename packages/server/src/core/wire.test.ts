import { createParser, type EventSourceMessage } from 'eventsource-parser'
import fc from 'fast-check'
import { afterAll, describe, expect, test } from 'vitest'
import { isRtError } from './errors.js'
import { createHub, type Hub } from './hub.js'
import type { StreamSink } from './sink.js'
import { checkPublish } from './validate.js'
import { encodeControl, encodeEvent, encodeRetry, HEARTBEAT, hasControlChars } from './wire.js'

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe('encoding', () => {
  test('an application event is id, event and one data line of JSON', () => {
    expect(decode(encodeEvent('e-7', 'message.new', 'room:1', 123, '{"text":"a\\nb"}'))).toBe(
      'id: e-7\nevent: message.new\ndata: {"topic":"room:1","ts":123,"data":{"text":"a\\nb"}}\n\n',
    )
  })

  test('the topic is JSON-escaped inside data', () => {
    expect(decode(encodeEvent('e-1', 't', 'a"b\\c\u2028😀', 1, 'null'))).toBe(
      `id: e-1\nevent: t\ndata: {"topic":${JSON.stringify('a"b\\c\u2028😀')},"ts":1,"data":null}\n\n`,
    )
  })

  test('control events carry an id only when they move the resume position', () => {
    expect(decode(encodeControl('rt.reset', { reason: 'evicted' }, 'e-9'))).toBe(
      'id: e-9\nevent: rt.reset\ndata: {"reason":"evicted"}\n\n',
    )
    expect(decode(encodeControl('rt.connected', { heartbeatMs: 5 }))).toBe(
      'event: rt.connected\ndata: {"heartbeatMs":5}\n\n',
    )
  })

  test('heartbeats are comments and retry is a bare field', () => {
    expect(decode(HEARTBEAT)).toBe(':\n\n')
    expect(decode(encodeRetry(1500))).toBe('retry: 1500\n')
  })

  test('multi-byte text is UTF-8 encoded', () => {
    const bytes = [...encodeEvent('e-1', 'é', 't', 1, '"😀"')]
    const at = 'id: e-1\nevent: '.length
    expect(bytes.slice(at, at + 3)).toEqual([0xc3, 0xa9, 0x0a])
    const end = bytes.length - '"}\n\n'.length
    expect(bytes.slice(end - 4, end)).toEqual([0xf0, 0x9f, 0x98, 0x80])
  })

  test('hasControlChars flags C0 and DEL, not other unicode line separators', () => {
    for (let code = 0; code < 0x20; code++) expect(hasControlChars(`a${String.fromCharCode(code)}`)).toBe(true)
    expect(hasControlChars('\u007f')).toBe(true)
    // SSE ends lines only at CR, LF and CRLF, so these cannot split a field.
    for (const value of ['\u0085', '\u2028', '\u2029', 'plain', '😀']) expect(hasControlChars(value)).toBe(false)
  })
})

/** A stream opened through the adapter contract, parsed the way any SSE client would. */
interface Captured {
  /** Raw text received so far. */
  text: string
  readonly events: EventSourceMessage[]
  readonly retries: number[]
  readonly comments: string[]
  readonly errors: Error[]
  until(predicate: () => boolean): Promise<void>
  close(): void
}

async function capture(hub: Hub, query: string): Promise<Captured | null> {
  const response = await hub.handle({
    method: 'GET',
    url: new URL(`http://rt.test/events?${query}`),
    headers: new Headers(),
    raw: null,
  })
  if (response.kind !== 'stream') return null
  const decoder = new TextDecoder()
  let wake = () => {}
  const out: Captured = {
    text: '',
    events: [],
    retries: [],
    comments: [],
    errors: [],
    until(predicate) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; received ${JSON.stringify(out.text)}`)), 5_000)
        wake = () => {
          if (!predicate()) return
          clearTimeout(timer)
          wake = () => {}
          resolve()
        }
        wake()
      })
    },
    close: () => handle.close(),
  }
  const parser = createParser({
    onEvent: (message) => out.events.push(message),
    onRetry: (ms) => out.retries.push(ms),
    onComment: (comment) => out.comments.push(comment),
    onError: (error) => out.errors.push(error),
  })
  const sink: StreamSink = {
    write(chunk) {
      const text = decoder.decode(chunk, { stream: true })
      out.text += text
      parser.feed(text)
      wake()
    },
    bufferedBytes: 0,
    onDrain: (listener) => listener(),
    end() {},
    abort() {},
  }
  const handle = response.open(sink)
  return out
}

/** Strings built to hurt: any code point, SSE syntax, line breaks, lone surrogates, astral characters. */
const hostile = (maxLength: number) =>
  fc.string({
    maxLength,
    unit: fc.oneof(
      { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '\r',
          '\n',
          '\r\n',
          '\n\n',
          '\u0000',
          ':',
          ' ',
          'data: x',
          'id: 1',
          'event: e',
          'retry: 1',
          ',',
          'rt.',
          '\ud800',
          '\udc00',
          '😀',
          '\u2028',
          '\ufeff',
          '"',
          '\\',
          '\\n',
          '}',
        ),
      },
    ),
  })

describe('every publish is exactly one event on the wire, or none', () => {
  const hub = createHub({ heartbeatMs: 3_600_000 })
  afterAll(() => hub.close())
  let accepted = 0
  let rejected = 0

  test('property: arbitrary type, topic and data', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostile(12),
        fc.oneof(fc.constant('room'), hostile(12)),
        fc.oneof(hostile(300), fc.jsonValue()),
        async (type, topic, data) => {
          let query: string | null = null
          try {
            // A comma separates topics in a subscription, so such a name is never one topic.
            if (!topic.includes(',')) query = `topics=${encodeURIComponent(topic)}`
          } catch {
            // A lone surrogate has no URL form: nobody can subscribe to such a topic.
          }
          const stream = query === null ? null : await capture(hub, query)
          // A topic one can publish to is a topic one can subscribe to, and the other way round.
          const topicValid = (() => {
            try {
              checkPublish({ type: 't', topic, data: null })
              return true
            } catch {
              return false
            }
          })()
          expect(stream !== null, JSON.stringify(topic)).toBe(topicValid)
          if (stream === null) {
            await expect(hub.publish({ type, topic, data })).rejects.toSatisfy(isRtError)
            rejected++
            return
          }
          try {
            await stream.until(() => stream.events.length === 1)
            expect(stream.events[0]?.event).toBe('rt.connected')
            const before = stream.text.length
            let id: string
            try {
              id = await hub.publish({ type, topic, data })
            } catch (error) {
              expect(error).toSatisfy(isRtError)
              expect((error as { code: string }).code).toBe('invalid_type')
              rejected++
              // Nothing of the rejected publish may reach the wire: the next event is the sentinel.
              const sentinel = await hub.publish({ type: 'sentinel', topic, data: null })
              await stream.until(() => stream.events.length === 2)
              expect(stream.events[1]?.id).toBe(sentinel)
              expect(stream.text.slice(before)).toMatch(/^id: \S+\nevent: sentinel\ndata: [^\r\n]*\n\n$/)
              return
            }
            accepted++
            for (const raw of ['\r', '\n', '\u0000']) expect(type).not.toContain(raw)
            await stream.until(() => stream.events.length === 2)
            const event = stream.events[1] as EventSourceMessage
            expect(event.id).toBe(id)
            expect(event.event).toBe(type)
            const envelope = JSON.parse(event.data) as Record<string, unknown>
            expect(Object.keys(envelope)).toEqual(['topic', 'ts', 'data'])
            expect(envelope.topic).toBe(topic)
            expect(typeof envelope.ts).toBe('number')
            // JSON has no -0; everything else must come back as published.
            expect(envelope.data).toEqual(JSON.parse(JSON.stringify(data)))
            if (typeof data === 'string') expect(envelope.data).toBe(data)
            // No field beyond id, event and data, by any parser's reading of line ends.
            const lines = stream.text.slice(before).split(/\r\n|\r|\n/)
            expect(lines).toHaveLength(5)
            expect(lines.map((line) => line.slice(0, line.indexOf(':') + 1))).toEqual([
              'id:',
              'event:',
              'data:',
              '',
              '',
            ])
            expect(stream.retries).toHaveLength(1)
            expect(stream.comments).toEqual([])
            expect(stream.errors).toEqual([])
          } finally {
            stream.close()
          }
        },
      ),
      { numRuns: 1000 },
    )
    // Both branches must have been exercised for the property to mean anything.
    expect(accepted).toBeGreaterThan(50)
    expect(rejected).toBeGreaterThan(10)
    expect(hub.stats().connections).toBe(0)
  })
})
