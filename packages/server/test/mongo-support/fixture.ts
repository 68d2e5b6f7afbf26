/**
 * A hub fed by a change stream on a fresh database, for the change stream tests.
 */
import { createHub, type Hub, type Log, type LogEntry, memoryLog } from '@rt/server'
import {
  type MongoChangeStreamOptions,
  type MongoChangeStreamSource,
  mongoChangeStream,
  mongoTokenStore,
  type TokenStore,
} from '@rt/server/mongo'
import type { ChangeStreamDocument, Collection, Db, Document, MongoClient } from 'mongodb'
import type { MongoSimCommand } from '../mongo-sim/index.js'
import { eventually, type MongoTarget } from './target.js'

/** Inserts of `{ n }` become `post` events on topic `posts` (and `skip: true` documents none). */
export function postMap(change: ChangeStreamDocument): { type: string; topic: string; data: unknown } | null {
  if (change.operationType !== 'insert' || change.fullDocument.skip === true) return null
  return { type: 'post', topic: 'posts', data: { n: change.fullDocument.n } }
}

export interface Fixture {
  readonly client: MongoClient
  readonly db: Db
  readonly posts: Collection<Document>
  readonly log: Log
  readonly hub: Hub
  readonly tokens: TokenStore
  readonly source: MongoChangeStreamSource
  readonly errors: unknown[]
  /** Every entry logged so far, oldest first. */
  entries(): Promise<LogEntry[]>
  /** The `n` of every `post` event logged so far. */
  ns(): Promise<number[]>
  /** Commands the simulator received for this fixture's database. */
  commands(name: string): MongoSimCommand[]
  /** The `$changeStream` stage of every change stream opened on this database. */
  streamStages(): Record<string, unknown>[]
  close(): Promise<void>
}

export async function fixture(
  target: MongoTarget,
  options: Partial<MongoChangeStreamOptions> & { log?: Log; attach?: boolean } = {},
): Promise<Fixture> {
  const client = await target.client()
  const db = client.db(target.dbName())
  const posts = db.collection('posts')
  const log = options.log ?? memoryLog()
  const origin = log.head()
  const errors: unknown[] = []
  const hub = createHub({ log, onError: (error) => errors.push(error) })
  const tokens = options.tokens ?? mongoTokenStore(db)
  const { log: _log, attach, ...rest } = options
  const source = mongoChangeStream({
    collection: posts,
    tokens,
    map: postMap,
    checkpointMs: 50,
    maxAwaitTimeMS: 200,
    backoff: { initialMs: 20, maxMs: 200 },
    ...rest,
  } as MongoChangeStreamOptions)
  if (attach !== false) await hub.attach(source)
  const commands = (name: string) =>
    (target.sim?.commands ?? []).filter((c) => c.name === name && c.db === db.databaseName)
  const entries = async () => {
    const page = await log.read(origin, 100_000)
    if (!page.ok) throw new Error(`log read failed: ${page.reason}`)
    return [...page.entries]
  }
  return {
    client,
    db,
    posts,
    log,
    hub,
    tokens,
    source,
    errors,
    entries,
    ns: async () => (await entries()).filter((e) => e.type === 'post').map((e) => (e.data as { n: number }).n),
    commands,
    streamStages: () =>
      commands('aggregate')
        .map((c) => (c.body.pipeline as Document[])[0]?.$changeStream as Record<string, unknown> | undefined)
        .filter((stage) => stage !== undefined),
    close: () => hub.close(),
  }
}

/** Waits until the source has read its first batch (it is positioned: later writes reach it). */
export function running(source: MongoChangeStreamSource): Promise<boolean> {
  return eventually(() => source.status().state === 'running', { what: `${source.name} running` })
}

/** Inserts `{ n }` for each `n`, one write each (so each is its own change). */
export async function insertNs(posts: Collection<Document>, ns: Iterable<number>): Promise<void> {
  for (const n of ns) await posts.insertOne({ n })
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}
