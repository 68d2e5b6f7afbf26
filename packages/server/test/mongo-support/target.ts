/**
 * Where the MongoDB tests run: the wire-level simulator by default, or a real replica set
 * when `MONGODB_URI` is set. Fault-injection tests exist only for the simulator.
 */
import { MongoClient } from 'mongodb'
import { type MongoSim, type MongoSimOptions, startMongoSim } from '../mongo-sim/index.js'

/** Set when the suite runs against a real replica set. */
export const REAL_URI: string | undefined = process.env.MONGODB_URI || undefined

/** Prefix for tests that need the simulator's fault injection (skipped with `MONGODB_URI`). */
export const SIM_ONLY = '[simulator only: injects faults]'

export interface MongoTarget {
  readonly uri: string
  /** The simulator, or null against a real replica set. */
  readonly sim: MongoSim | null
  /** A connected client, closed by `close()`. */
  client(): Promise<MongoClient>
  /** A database name no other test uses (dropped by `close()` on a real server). */
  dbName(): string
  close(): Promise<void>
}

export const clientOptions = { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 3_000 } as const

let counter = 0

let announced = false

export async function mongoTarget(options: MongoSimOptions = {}): Promise<MongoTarget> {
  if (!announced) {
    announced = true
    console.info(
      REAL_URI === undefined
        ? 'MongoDB tests: wire-level simulator (set MONGODB_URI to use a real replica set)'
        : 'MongoDB tests: real replica set from MONGODB_URI (simulator-only tests skipped)',
    )
  }
  const sim = REAL_URI === undefined ? await startMongoSim(options) : null
  const uri = REAL_URI ?? (sim as MongoSim).uri
  const clients: MongoClient[] = []
  const names: string[] = []
  return {
    uri,
    sim,
    async client() {
      const client = new MongoClient(uri, clientOptions)
      clients.push(client)
      await client.connect()
      return client
    },
    dbName() {
      const name = `rt_test_${process.pid}_${Date.now().toString(36)}_${++counter}`
      names.push(name)
      return name
    },
    async close() {
      if (sim === null && clients[0] !== undefined) {
        for (const name of names)
          await clients[0]
            .db(name)
            .dropDatabase()
            .catch(() => {})
      }
      await Promise.all(clients.map((c) => c.close(true)))
      await sim?.close()
    },
  }
}

/** Polls `condition` until it holds (for states with no event to await). */
export async function eventually<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await condition()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
