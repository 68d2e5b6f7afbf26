import { Binary, type Document, Long, ObjectId, type Timestamp } from 'bson'
import type { Handler, SimContext } from './context.js'
import { CommandError } from './errors.js'

const MAX_BSON = 16 * 1024 * 1024
/** Stable election id and set version: a primary whose election id changes is marked stale. */
const ELECTION_ID = new ObjectId('7fffffff0000000000000001')

/**
 * `hello` / `isMaster`, as a one-member replica set's primary (or a standalone) answers it.
 * With `topologyVersion` (option `streamingHello`) the driver's monitor streams awaitable hello
 * with exhaust; without it, it polls.
 */
export const hello: Handler = (ctx, { body }) => {
  const reply: Document = {
    helloOk: true,
    isWritablePrimary: true,
    ismaster: true,
  }
  if (ctx.setName !== null) {
    Object.assign(reply, {
      hosts: [ctx.host],
      setName: ctx.setName,
      setVersion: 1,
      electionId: ELECTION_ID,
      primary: ctx.host,
      me: ctx.host,
      secondary: false,
    })
  }
  Object.assign(reply, {
    maxBsonObjectSize: MAX_BSON,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  })
  if (ctx.topologyVersion !== null) reply.topologyVersion = ctx.topologyVersion
  if (body.saslSupportedMechs !== undefined) reply.saslSupportedMechs = []
  return reply
}

export const buildInfo: Handler = () => ({
  version: '7.0.0',
  gitVersion: 'mongo-sim',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON,
  storageEngines: ['inMemory'],
  ok: 1,
})

export const serverStatus: Handler = (ctx) => ({
  host: ctx.host,
  version: '7.0.0',
  process: 'mongod',
  pid: Long.fromNumber(process.pid),
  uptime: process.uptime(),
  localTime: new Date(),
  ok: 1,
})

export const replSetGetStatus: Handler = (ctx) => {
  if (ctx.setName === null) throw new CommandError(76, 'not running with --replSet')
  const optime = { ts: ctx.log.clusterTime, t: Long.fromNumber(1) }
  return {
    set: ctx.setName,
    date: new Date(),
    myState: 1,
    members: [{ _id: 0, name: ctx.host, health: 1, state: 1, stateStr: 'PRIMARY', self: true, optime }],
    ok: 1,
  }
}

/** Commands that only need an `ok` (sessions, transactions, which the simulator does not isolate). */
export const ok: Handler = () => ({ ok: 1 })

/** Adds the fields a replica-set member puts on every reply. */
export function withClusterTime(ctx: SimContext, reply: Document): Document {
  if (ctx.setName === null) return reply
  const time: Timestamp = ctx.log.clusterTime
  reply.operationTime = time
  reply.$clusterTime = {
    clusterTime: time,
    signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.fromNumber(0) },
  }
  return reply
}
