import type { AddressInfo } from 'node:net'
import { createServer, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Document, Long, ObjectId } from 'bson'
import { ChangeLog, type Transaction } from './changelog.js'
import { HANDLERS, RETRYABLE_WRITES } from './commands.js'
import type { CommandCall, SimContext } from './context.js'
import { Cursors, cursorIdOf } from './cursors.js'
import { CommandError, changeStreamLabels } from './errors.js'
import { FaultQueue, type MongoSimFault } from './faults.js'
import { decodeRequest, encodeReply, FrameReader, type WireRequest } from './framing.js'
import { withClusterTime } from './handshake.js'
import { Store } from './store.js'
import { clone, keyOf } from './values.js'

/** Options of {@link startMongoSim}. */
export interface MongoSimOptions {
  /**
   * TCP port on 127.0.0.1.
   * @default 0 (a free port)
   */
  port?: number
  /**
   * Replica set name; `null` runs a standalone server (no `setName` in `hello`, and `$changeStream`
   * fails with code 40573).
   * @default 'rs0'
   */
  setName?: string | null
  /**
   * Change events kept; resuming from an older token answers code 286 (ChangeStreamHistoryLost).
   * @default 100_000
   */
  historyLimit?: number
  /**
   * How often TTL indexes delete expired documents (mongod's TTL monitor runs every 60 s).
   * @default 60_000
   */
  ttlMonitorMs?: number
  /**
   * Cursors not used for this long are killed; the next `getMore` answers 43 CursorNotFound
   * (mongod's `cursorTimeoutMillis`).
   * @default 600_000
   */
  cursorTimeoutMs?: number
  /**
   * Answer `hello` with a `topologyVersion`, as mongod 4.4+ does: the driver's monitor then
   * streams awaitable hello with exhaust (one reply every `heartbeatFrequencyMS`) instead of
   * polling.
   * @default false
   */
  streamingHello?: boolean
}

/** A command as the simulator received it. */
export interface MongoSimCommand {
  db: string
  name: string
  body: Record<string, unknown>
}

/** A running simulator. */
export interface MongoSim {
  /** `mongodb://127.0.0.1:PORT/?replicaSet=rs0` (no `replicaSet` parameter when standalone). */
  readonly uri: string
  readonly port: number
  /** Every command received, in order, for asserting what the driver sent (e.g. resumeAfter/startAfter). */
  readonly commands: ReadonlyArray<MongoSimCommand>
  /** Queue a fault applied to the next command named `on` (e.g. 'getMore', 'aggregate', 'insert'). */
  fault(fault: MongoSimFault): void
  /** Drop all change history so any earlier token is lost (next resume, or next getMore of an open stream, answers 286). */
  truncateHistory(): void
  /** Emit an `invalidate` for a collection (as after a drop/rename), closing its change streams. */
  invalidate(db: string, collection: string): void
  /** Direct access to the data, for assertions: copies of the documents of a collection. */
  documents(db: string, collection: string): Record<string, unknown>[]
  /** Open cursors (plain and change stream). */
  readonly openCursors: number
  /** Close all client sockets now (as a crashed/restarted server would) but keep listening and keep data. */
  dropConnections(): void
  close(): Promise<void>
}

/** Fields of a retryable write that identify it across the driver's retry. */
function retryKey(name: string, body: Document): string | undefined {
  if (!RETRYABLE_WRITES.has(name) || body.txnNumber === undefined || body.lsid === undefined) return undefined
  // Statements of a transaction share a txnNumber; only plain retryable writes are deduplicated.
  if (body.autocommit !== undefined) return undefined
  return `${keyOf(body.lsid)}:${String(body.txnNumber)}`
}

function internalError(error: unknown): Document {
  const message = error instanceof Error ? error.message : String(error)
  const mingo = error instanceof Error && error.name === 'MingoError'
  return new CommandError(mingo ? 2 : 1, message).toReply()
}

/**
 * Starts a MongoDB wire-protocol server on 127.0.0.1 that the real `mongodb` driver sees as a
 * one-member replica set (or a standalone): CRUD, unique indexes, change streams with resume
 * tokens and post-batch tokens, and injectable faults. Test support only.
 *
 * @example
 * const sim = await startMongoSim()
 * const client = new MongoClient(sim.uri, { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 3000 })
 * const stream = client.db('app').collection('posts').watch()
 * // ...
 * await client.close()
 * await sim.close()
 */
export async function startMongoSim(options: MongoSimOptions = {}): Promise<MongoSim> {
  const setName = options.setName === undefined ? 'rs0' : options.setName
  const log = new ChangeLog(options.historyLimit ?? 100_000)
  const store = new Store(log)
  const cursors = new Cursors()
  const faults = new FaultQueue()
  const commands: MongoSimCommand[] = []
  const sockets = new Set<Socket>()
  const closing = new AbortController()
  const retried = new Map<string, Document>()
  let connections = 0
  let host = ''
  const topologyVersion =
    options.streamingHello === true ? { processId: new ObjectId(), counter: Long.fromNumber(0) } : null

  /** Open multi-document transactions by session and number. */
  const transactions = new Map<string, Transaction>()

  /** commitTransaction / abortTransaction: the changes reach the log at commit, an abort undoes the writes. */
  function endTransaction(name: string, body: Document): Document {
    const key = `${keyOf(body.lsid)}:${String(body.txnNumber)}`
    const transaction = transactions.get(key)
    transactions.delete(key)
    if (name === 'committransaction') {
      if (transaction) log.commit(transaction)
    } else if (transaction) {
      for (const undo of transaction.undo.reverse()) undo()
    } else {
      return new CommandError(251, `Transaction with txnNumber ${String(body.txnNumber)} not found`).toReply()
    }
    return { ok: 1 }
  }

  async function run(ctx: SimContext, call: CommandCall): Promise<Document> {
    const lower = call.name.toLowerCase()
    if (lower === 'committransaction' || lower === 'aborttransaction') return endTransaction(lower, call.body)
    const handler = HANDLERS.get(lower)
    if (!handler) return new CommandError(59, `no such command: '${call.name}'`).toReply()
    if (call.body.autocommit === false && RETRYABLE_WRITES.has(lower)) {
      const key = `${keyOf(call.body.lsid)}:${String(call.body.txnNumber)}`
      let transaction = transactions.get(key)
      if (!transaction) {
        const txnNumber =
          call.body.txnNumber instanceof Long ? call.body.txnNumber : Long.fromValue(call.body.txnNumber as number)
        transaction = { id: { lsid: call.body.lsid as Document, txnNumber }, entries: [], undo: [] }
        transactions.set(key, transaction)
      }
      // Write handlers run synchronously: nothing else appends while the transaction is set.
      log.transaction = transaction
      try {
        return handler(ctx, call) as Document
      } catch (error) {
        return error instanceof CommandError ? error.toReply() : internalError(error)
      } finally {
        log.transaction = null
      }
    }
    const key = retryKey(call.name.toLowerCase(), call.body)
    const earlier = key === undefined ? undefined : retried.get(key)
    if (earlier) return clone(earlier)
    try {
      const reply = await handler(ctx, call)
      if (key !== undefined) {
        retried.set(key, clone(reply))
        if (retried.size > 10_000) retried.delete(retried.keys().next().value!)
      }
      return reply
    } catch (error) {
      return error instanceof CommandError ? error.toReply() : internalError(error)
    }
  }

  /** A `getMore` on an open change stream cursor (the server labels its errors). */
  function isChangeGetMore(name: string, body: Document): boolean {
    if (name.toLowerCase() !== 'getmore') return false
    try {
      return cursors.get(cursorIdOf(body.getMore))?.kind === 'change'
    } catch {
      return false
    }
  }

  async function handle(socket: Socket, ctx: SimContext, signal: AbortSignal, request: WireRequest): Promise<void> {
    const { db, body } = request
    const name = Object.keys(body)[0] ?? ''
    commands.push({ db, name, body })
    const fault = faults.take(name)
    if (fault && 'drop' in fault) {
      socket.destroy()
      return
    }
    let reply: Document
    if (fault && 'error' in fault) {
      const { code, codeName, message } = fault.error
      const labels = fault.error.labels ?? (isChangeGetMore(name, body) ? changeStreamLabels(code) : [])
      reply = new CommandError(code, message ?? `simulated ${name} failure`, labels, {}, codeName).toReply()
    } else {
      reply = await run(ctx, {
        db,
        name,
        body,
        signal,
        cursorId0: fault !== undefined && 'cursorId0' in fault,
        ...(fault !== undefined && 'replay' in fault ? { replay: fault.replay } : {}),
      })
    }
    if (fault && 'delayMs' in fault) await sleep(fault.delayMs, undefined, { signal }).catch(() => {})
    if (socket.destroyed || request.moreToCome) return
    if (isAwaitableHello(ctx, name, request)) return streamHello(socket, ctx, signal, request)
    socket.write(encodeReply(request, withClusterTime(ctx, reply)))
  }

  /** An awaitable `hello` of a monitor: `{ topologyVersion, maxAwaitTimeMS }` with exhaust allowed. */
  function isAwaitableHello(ctx: SimContext, name: string, request: WireRequest): boolean {
    const lower = name.toLowerCase()
    return (
      ctx.topologyVersion !== null &&
      (lower === 'hello' || lower === 'ismaster') &&
      request.exhaustAllowed === true &&
      request.body.topologyVersion !== undefined &&
      typeof request.body.maxAwaitTimeMS === 'number'
    )
  }

  /**
   * The topology never changes, so each reply comes after `maxAwaitTimeMS`, flagged moreToCome,
   * until the connection closes: the exhaust protocol of mongod's awaitable hello.
   */
  async function streamHello(
    socket: Socket,
    ctx: SimContext,
    signal: AbortSignal,
    request: WireRequest,
  ): Promise<void> {
    const waitMs = Math.max(0, Math.min(request.body.maxAwaitTimeMS as number, 60_000))
    let responseTo = request.requestId
    while (!signal.aborted && !socket.destroyed) {
      await sleep(waitMs, undefined, { signal }).catch(() => {})
      if (signal.aborted || socket.destroyed) return
      const reply = await run(ctx, { db: request.db, name: 'hello', body: request.body, signal, cursorId0: false })
      const bytes = encodeReply(request, withClusterTime(ctx, reply), true, responseTo)
      responseTo = bytes.readInt32LE(4)
      socket.write(bytes)
    }
  }

  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    const closed = new AbortController()
    const signal = AbortSignal.any([closed.signal, closing.signal])
    const ctx: SimContext = { store, log, cursors, setName, host, connectionId: ++connections, topologyVersion }
    const reader = new FrameReader()
    // Commands on one connection run one after another, as mongod runs them.
    let queue = Promise.resolve()
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const message of reader.push(chunk)) {
          const request = decodeRequest(message)
          queue = queue
            .then(() => handle(socket, ctx, signal, request))
            .catch(() => {
              socket.destroy()
            })
        }
      } catch {
        socket.destroy()
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      sockets.delete(socket)
      closed.abort()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  host = `127.0.0.1:${port}`
  // Housekeeping on a period, as mongod's TTL monitor and cursor reaper run, not per command.
  const ttlTimer = setInterval(() => store.expire(), options.ttlMonitorMs ?? 60_000)
  const cursorTimeoutMs = options.cursorTimeoutMs ?? 600_000
  const reaper = setInterval(
    () => {
      if (cursors.sweep(cursorTimeoutMs) > 0) log.wake()
    },
    Math.max(10, Math.min(60_000, Math.floor(cursorTimeoutMs / 4))),
  )
  ttlTimer.unref()
  reaper.unref()

  return {
    uri: setName === null ? `mongodb://${host}/` : `mongodb://${host}/?replicaSet=${encodeURIComponent(setName)}`,
    port,
    commands,
    fault: (fault) => faults.add(fault),
    truncateHistory: () => log.truncate(),
    invalidate: (db, collection) => {
      log.append({ kind: 'invalidate', ns: { db, coll: collection }, closes: 'collection' })
    },
    documents: (db, collection) => (store.get(db, collection)?.all() ?? []).map((d) => clone(d)),
    dropConnections: () => {
      for (const socket of sockets) socket.destroy()
      // A restarted server has no cursors.
      cursors.clear()
      log.wake()
    },
    get openCursors() {
      return cursors.size
    },
    close: async () => {
      clearInterval(ttlTimer)
      clearInterval(reaper)
      closing.abort()
      for (const socket of sockets) socket.destroy()
      cursors.clear()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
