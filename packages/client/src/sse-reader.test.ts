/**
 * Fuzzing the SSE reader with fast-check: arbitrary byte streams (structured SSE with
 * CR/LF/CRLF mixes, BOMs, NULs, junk and huge fields, or raw bytes), split at random
 * points. It never throws, never emits a malformed message, reads exactly what a plain
 * whole-stream reading of the spec gives, and never holds more than its cap.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { isRtError } from './errors.js'
import type { Message } from './protocol.js'
import { createSseReader } from './sse-reader.js'

type Out = { message: Message } | { error: 'protocol' } | { retry: number }

/**
 * The reference: the WHATWG reading of a whole stream (the decoded chunks joined), with
 * eventsource-parser's choices (an id belongs to its own event; a trailing CR waits for a
 * possible LF), then JSON data as the client reads it.
 */
function reference(text: string): { out: Out[]; maxLine: number; maxData: number; tails: (s: string) => number } {
  const out: Out[] = []
  let id: string | undefined
  let event: string | undefined
  let data: string[] = []
  let maxLine = 0
  let maxData = 0
  let i = 0
  for (;;) {
    let end = i
    while (end < text.length && text[end] !== '\n' && text[end] !== '\r') end++
    // No terminator yet (a CR at the very end may be the start of a CRLF).
    if (end >= text.length || (text[end] === '\r' && end === text.length - 1)) break
    const line = text.slice(i, end)
    const next = text[end] === '\r' && text[end + 1] === '\n' ? end + 2 : end + 1
    maxLine = Math.max(maxLine, next - i)
    i = next
    if (line === '') {
      if (data.length > 0) {
        const raw = data.join('\n')
        try {
          out.push({ message: { id, type: event ?? 'message', data: JSON.parse(raw) } })
        } catch {
          out.push({ error: 'protocol' })
        }
      }
      id = undefined
      event = undefined
      data = []
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') {
      data.push(value)
      maxData = Math.max(maxData, data.join('\n').length)
    } else if (field === 'event') event = value || undefined
    else if (field === 'id' && !value.includes('\0')) id = value
    else if (field === 'retry' && /^\d+$/.test(value)) out.push({ retry: Number.parseInt(value, 10) })
  }
  maxData = Math.max(maxData, data.join('\n').length)
  maxLine = Math.max(maxLine, text.length - i)
  // A lower bound of what any reader must hold after `prefix`: its unterminated tail
  // (a final CR included) plus the data of the message not yet ended.
  const tails = (prefix: string) => {
    // The last line end: an LF, or a CR that is not the last character.
    let last = prefix.length - 1
    if (prefix[last] !== '\n') {
      last--
      while (last >= 0 && prefix[last] !== '\n' && prefix[last] !== '\r') last--
    }
    const tail = prefix.length - 1 - last
    let pending: string[] = []
    for (const line of prefix.slice(0, last + 1).split(/\r\n|\r|\n/)) {
      if (line === '') pending = []
      else if (line === 'data' || line.startsWith('data:')) pending.push(line.slice(line.startsWith('data: ') ? 6 : 5))
    }
    return tail + (pending.length > 0 ? pending.join('\n').length : 0)
  }
  return { out, maxLine, maxData, tails }
}

/** Runs the reader over `chunks`, recording everything and checking that it never throws. */
function read(chunks: Uint8Array[], maxSize: number) {
  const out: Out[] = []
  let overflowAt = -1
  let overflows = 0
  let afterOverflow = 0
  let chunk = 0
  const feed = createSseReader(
    maxSize,
    (message) => {
      if (overflowAt >= 0) afterOverflow++
      out.push({ message })
    },
    (retry) => out.push({ retry }),
    (error) => {
      expect(isRtError(error)).toBe(true)
      if (error.code === 'too_large') {
        overflows++
        overflowAt = chunk
      } else {
        expect(error.code).toBe('protocol')
        out.push({ error: 'protocol' })
      }
    },
  )
  const accepted: boolean[] = []
  for (; chunk < chunks.length; chunk++) accepted.push(feed(chunks[chunk] as Uint8Array))
  return { out, overflowAt, overflows, afterOverflow, accepted }
}

/** Decodes the chunks as a streaming reader must, so the reference sees the same text. */
function decoded(chunks: Uint8Array[]): string[] {
  const decoder = new TextDecoder()
  return chunks.map((chunk) => decoder.decode(chunk, { stream: true }))
}

/**
 * What the reader has read: it reads its buffer (as eventsource-parser does) when a chunk with a CR or
 * LF arrives, so a CR that ended a chunk and was followed only by chunks without line
 * ends still waits (the event it ends comes with the next line end; a client that loses
 * the stream there resumes from the id before it).
 */
function processed(parts: string[]): string {
  let last = parts.length - 1
  while (last >= 0 && !/[\r\n]/.test(parts[last] as string)) last--
  return joined(parts.slice(0, last + 1))
}

function joined(parts: string[]): string {
  // The reader (as eventsource-parser) drops a BOM decoded as Latin-1 at the head of its first chunk.
  const first = parts[0] ?? ''
  return (first.startsWith('\u00ef\u00bb\u00bf') ? first.slice(3) : first) + parts.slice(1).join('')
}

function isWellFormed(message: Message): boolean {
  return (
    typeof message.type === 'string' &&
    !/[\r\n]/.test(message.type) &&
    (message.id === undefined || !/[\r\n\0]/.test(message.id)) &&
    JSON.stringify(message.data) !== undefined
  )
}

const terminator = fc.constantFrom('\n', '\r', '\r\n')
const text = fc.string({ unit: 'binary', maxLength: 40 })
const line = fc.oneof(
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => `data: ${JSON.stringify(v)}`) },
  { weight: 2, arbitrary: text.map((v) => `data:${v}`) },
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: text.map((v) => `event: ${v}`) },
  { weight: 2, arbitrary: text.map((v) => `id: ${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('id: a\0b', 'data', 'event', ': comment', 'unknown: x') },
  { weight: 1, arbitrary: fc.oneof(fc.nat().map(String), text).map((v) => `retry: ${v}`) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 6_000 }).map((n) => `data: "${'x'.repeat(n)}"`) },
  { weight: 1, arbitrary: text },
)
const prefix = fc.constantFrom('', '', '\ufeff', '\ufeff\ufeff', '\u00ef\u00bb\u00bf')
const sse = fc
  .tuple(prefix, fc.array(fc.tuple(line, terminator), { maxLength: 40 }), fc.option(line))
  .map(([head, lines, tail]) => new TextEncoder().encode(head + lines.map(([l, t]) => l + t).join('') + (tail ?? '')))
const bytes = fc.oneof({ weight: 4, arbitrary: sse }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2_000 }) })

/** `bytes` cut at random points (empty chunks included). */
const split = bytes.chain((all) =>
  fc.uniqueArray(fc.integer({ min: 0, max: all.length }), { maxLength: 30 }).map((cuts) => {
    const at = [0, ...cuts.toSorted((a, b) => a - b), all.length]
    return at.slice(1).map((end, k) => all.subarray(at[k], end))
  }),
)

describe('the SSE reader on arbitrary byte streams', () => {
  test('uncapped: never throws, emits only well-formed messages, and reads what the whole stream says', () => {
    fc.assert(
      fc.property(split, (chunks) => {
        const got = read(chunks, 2 ** 30)
        expect(got.overflows).toBe(0)
        expect(got.accepted.every(Boolean)).toBe(true)
        for (const item of got.out) if ('message' in item) expect(isWellFormed(item.message)).toBe(true)
        expect(got.out).toEqual(reference(processed(decoded(chunks))).out)
      }),
      { numRuns: 400 },
    )
  })

  test('capped: stops no later than it must, never after a cap it kept, and reads a prefix of the truth', () => {
    // Counted, so that the property cannot pass without streams that had to be stopped.
    let stopped = 0
    fc.assert(
      fc.property(split, fc.integer({ min: 8, max: 4_096 }), (chunks, cap) => {
        const got = read(chunks, cap)
        const parts = decoded(chunks)
        const truth = reference(joined(parts))
        const seen = reference(processed(parts)).out
        expect(got.overflows).toBeLessThanOrEqual(1)
        // The first chunk after which any reader must hold more than the cap.
        let must = -1
        for (let k = 0; k < parts.length && must === -1; k++)
          if (truth.tails(joined(parts.slice(0, k + 1))) > cap) must = k
        if (must >= 0) {
          stopped++
          expect(got.overflowAt).toBeGreaterThanOrEqual(0)
          expect(got.overflowAt).toBeLessThanOrEqual(must)
        }
        // Lines and messages that fit with room to spare are never refused.
        if (2 * truth.maxLine + truth.maxData <= cap) expect(got.overflows).toBe(0)
        if (got.overflows === 0) expect(got.out).toEqual(seen)
        else {
          expect(got.afterOverflow).toBe(0)
          expect(got.accepted.slice(got.overflowAt).every((ok) => !ok)).toBe(true)
          expect(truth.out.slice(0, got.out.length)).toEqual(got.out)
        }
      }),
      { numRuns: 400 },
    )
    expect(stopped).toBeGreaterThan(40)
  })
})

describe('the cap', () => {
  test('counts the data of a message not yet ended, not only the unfinished line', () => {
    const errors: string[] = []
    const feed = createSseReader(
      20,
      () => {},
      () => {},
      (error) => errors.push(error.code),
    )
    const encode = (text: string) => new TextEncoder().encode(text)
    expect(feed(encode('data: "0123456789\n'))).toBe(true)
    // Each line ends, but the message does not: 22 characters of data held.
    expect(feed(encode('data: 0123456789\n'))).toBe(false)
    expect(errors).toEqual(['too_large'])
  })
})
