import { type Document, deserialize, serialize } from 'bson'

/** Opcodes of the MongoDB wire protocol that the simulator reads or writes. */
export const OP_REPLY = 1
export const OP_QUERY = 2004
export const OP_COMPRESSED = 2012
export const OP_MSG = 2013

const HEADER = 16
const MAX_MESSAGE = 48_000_000
const CHECKSUM_PRESENT = 1
const MORE_TO_COME = 2
const EXHAUST_ALLOWED = 1 << 16

/** One command as the client sent it, whatever the opcode. */
export interface WireRequest {
  readonly requestId: number
  readonly opCode: typeof OP_QUERY | typeof OP_MSG
  readonly db: string
  /** The command document, with OP_MSG kind-1 document sequences merged in under their identifiers. */
  readonly body: Document
  /** The client expects no reply (`w: 0` writes). */
  readonly moreToCome: boolean
  /** The client accepts a stream of replies (awaitable `hello` of a monitor). */
  readonly exhaustAllowed?: boolean
}

/** A malformed or unsupported message: the connection is closed, as a server would. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
}

/** Cuts a TCP byte stream into whole wire messages. */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0)

  /** Adds received bytes; returns every message now complete (header included). */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    const messages: Buffer[] = []
    while (this.buffer.length >= 4) {
      const length = this.buffer.readInt32LE(0)
      if (length < HEADER || length > MAX_MESSAGE) throw new ProtocolError(`invalid message length ${length}`)
      if (this.buffer.length < length) break
      messages.push(this.buffer.subarray(0, length))
      this.buffer = this.buffer.subarray(length)
    }
    return messages
  }
}

function readCString(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset)
  if (end < 0) throw new ProtocolError('unterminated cstring')
  return [buf.toString('utf8', offset, end), end + 1]
}

function readDocument(buf: Buffer, offset: number): [Document, number] {
  const size = buf.readInt32LE(offset)
  return [deserialize(buf.subarray(offset, offset + size)), offset + size]
}

/** Decodes one whole message (as returned by {@link FrameReader.push}). */
export function decodeRequest(message: Buffer): WireRequest {
  const requestId = message.readInt32LE(4)
  const opCode = message.readInt32LE(12)
  if (opCode === OP_QUERY) {
    // flags, fullCollectionName, numberToSkip, numberToReturn, query
    const [collection, afterName] = readCString(message, HEADER + 4)
    let [body] = readDocument(message, afterName + 8)
    if (body.$query && typeof body.$query === 'object') body = body.$query as Document
    const db = collection.endsWith('.$cmd') ? collection.slice(0, -5) : collection.split('.')[0]!
    return { requestId, opCode, db, body, moreToCome: false }
  }
  if (opCode === OP_MSG) {
    const flags = message.readUInt32LE(HEADER)
    const end = message.length - (flags & CHECKSUM_PRESENT ? 4 : 0)
    let offset = HEADER + 4
    let body: Document | undefined
    const sequences: [string, Document[]][] = []
    while (offset < end) {
      const kind = message[offset]
      offset += 1
      if (kind === 0) {
        ;[body, offset] = readDocument(message, offset)
      } else if (kind === 1) {
        const sectionEnd = offset + message.readInt32LE(offset)
        const [identifier, docsAt] = readCString(message, offset + 4)
        const docs: Document[] = []
        for (let at = docsAt; at < sectionEnd; ) {
          const [doc, next] = readDocument(message, at)
          docs.push(doc)
          at = next
        }
        sequences.push([identifier, docs])
        offset = sectionEnd
      } else {
        throw new ProtocolError(`unknown OP_MSG section kind ${kind}`)
      }
    }
    if (!body) throw new ProtocolError('OP_MSG without a body section')
    for (const [identifier, docs] of sequences) {
      const existing = body[identifier]
      body[identifier] = Array.isArray(existing) ? [...existing, ...docs] : docs
    }
    const db = typeof body.$db === 'string' ? body.$db : 'admin'
    return {
      requestId,
      opCode,
      db,
      body,
      moreToCome: (flags & MORE_TO_COME) !== 0,
      exhaustAllowed: (flags & EXHAUST_ALLOWED) !== 0,
    }
  }
  throw new ProtocolError(`unsupported opcode ${opCode}`)
}

let nextResponseId = 1

/**
 * Encodes the reply to `request` in the matching opcode (OP_REPLY for OP_QUERY, else OP_MSG).
 * `moreToCome` marks one reply of an exhaust stream: more follow without a request, each
 * answering to the previous reply's id (bytes 4-7 of the returned buffer).
 */
export function encodeReply(
  request: WireRequest,
  reply: Document,
  moreToCome = false,
  responseTo = request.requestId,
): Buffer {
  const doc = serialize(reply, { ignoreUndefined: true })
  const legacy = request.opCode === OP_QUERY
  const prefix = legacy ? 20 : 5
  const out = Buffer.alloc(HEADER + prefix + doc.length)
  out.writeInt32LE(out.length, 0)
  out.writeInt32LE(nextResponseId++ & 0x7fffffff, 4)
  out.writeInt32LE(responseTo, 8)
  out.writeInt32LE(legacy ? OP_REPLY : OP_MSG, 12)
  if (legacy) {
    // responseFlags 0, cursorID 0 (int64), startingFrom 0, numberReturned 1
    out.writeInt32LE(1, HEADER + 16)
  } else {
    // flagBits, then one kind-0 section
    out.writeUInt32LE(moreToCome ? MORE_TO_COME : 0, HEADER)
    out.writeUInt8(0, HEADER + 4)
  }
  out.set(doc, HEADER + prefix)
  return out
}
