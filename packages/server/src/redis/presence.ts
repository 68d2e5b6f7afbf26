/**
 * `redisPresence`: who is connected to which topic, across every node.
 * @module
 */
import type { PresenceBackend, PresenceChange } from '../index.js'
import { connect, durationMs, type RedisTarget, randomId } from './client.js'
import { Script, SERVER_MS } from './script.js'

/** Options of {@link redisPresence}. */
export interface RedisPresenceOptions {
  /**
   * Prefix of the presence keys and channel. On Redis Cluster use a hash tag
   * (`{rt}:presence`): the scripts touch several keys.
   * @default 'rt:presence'
   */
  prefix?: string
  /**
   * A node that has not renewed itself for this long is gone, and its users leave.
   * Users of a node that died disappear within `ttlMs + heartbeatMs`.
   * @default 30_000
   */
  ttlMs?: number
  /** How often each node renews itself and removes gone nodes. @default ttlMs / 3 */
  heartbeatMs?: number
}

/** Longest `close()` waits for Redis before leaving the cleanup to the other nodes. */
const CLOSE_WAIT_MS = 2_000

// A member is JSON [topic, userId] in the node's set; the topic hash counts, per user, the
// nodes that have them. Join/leave events are published when a count leaves or reaches 0.
// KEYS: node set, topic hash; ARGV: member, userId, channel, event
const JOIN = new Script(`
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 and redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1`)

const LEAVE = new Script(`
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 and redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1`)

/** Lua: leaves member `m` (JSON [topic, user]) of node set `set`. Needs `prefix`, `channel`. */
const LEAVE_MEMBER = `
local function leave(set, m)
  local tu = cjson.decode(m)
  local hash = prefix .. ':topic:' .. tu[1]
  redis.call('SREM', set, m)
  if redis.call('HINCRBY', hash, tu[2], -1) <= 0 then
    redis.call('HDEL', hash, tu[2])
    redis.call('PUBLISH', channel, cjson.encode({topic = tu[1], left = tu[2]}))
  end
end`

// Renews this node; answers whether it was missing (swept, or Redis lost its data) and
// which nodes expired. KEYS: nodes; ARGV: node id, ttl
const HEARTBEAT = new Script(`${SERVER_MS}
local added = redis.call('ZADD', KEYS[1], string.format('%.0f', ms + tonumber(ARGV[2])), ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', ms), 'LIMIT', 0, 20)
return {added, dead}`)

// Removes a node and everything it joined, unless it renewed itself meanwhile ('dead');
// 'self' on close. KEYS: nodes, node set; ARGV: node id, prefix, channel, mode
const SWEEP = new Script(`
local prefix, channel = ARGV[2], ARGV[3]
${LEAVE_MEMBER}
if ARGV[4] == 'dead' then
  ${SERVER_MS}
  local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if score and tonumber(score) >= ms then return 0 end
end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do leave(KEYS[2], m) end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1`)

// Makes the node set equal to ARGV[3..], joining and leaving as needed.
// KEYS: node set; ARGV: prefix, channel, members...
const SYNC = new Script(`
local prefix, channel = ARGV[1], ARGV[2]
${LEAVE_MEMBER}
local want = {}
for i = 3, #ARGV do want[ARGV[i]] = true end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not want[m] then leave(KEYS[1], m) end
end
for i = 3, #ARGV do
  local m = ARGV[i]
  if redis.call('SADD', KEYS[1], m) == 1 then
    local tu = cjson.decode(m)
    if redis.call('HINCRBY', prefix .. ':topic:' .. tu[1], tu[2], 1) == 1 then
      redis.call('PUBLISH', channel, cjson.encode({topic = tu[1], joined = tu[2]}))
    end
  end
end
return 1`)

/**
 * Presence shared by every node through Redis: `hub.presence.online(topic)` answers for
 * the whole cluster, and `rt.presence` watchers on every node see a user join with their
 * first stream anywhere and leave with their last stream everywhere.
 *
 * Each node renews its membership every `heartbeatMs`; a node that stops (crash, network
 * partition) is removed by the others after `ttlMs`, with `left` events for its users.
 * A node that was cut off re-registers what it holds when it is back, and watchers get a
 * fresh snapshot after any lost pub/sub connection.
 *
 * @example
 * ```ts
 * import { redisPresence } from '@rt/server/redis'
 * const hub = createHub({ log, presence: await redisPresence({ url: process.env.REDIS_URL }) })
 * await hub.presence.online('room:42') // every node's users
 * ```
 */
export async function redisPresence(target: RedisTarget, options: RedisPresenceOptions = {}): Promise<PresenceBackend> {
  const who = 'redisPresence'
  const prefix = options.prefix ?? 'rt:presence'
  const ttlMs = durationMs(who, 'ttlMs', options.ttlMs, 30_000)
  const heartbeatMs = durationMs(who, 'heartbeatMs', options.heartbeatMs, Math.max(1, Math.floor(ttlMs / 3)))
  const nodeId = randomId(8)
  const channel = `${prefix}:events`
  const nodesKey = `${prefix}:nodes`
  const nodeKey = (id: string) => `${prefix}:node:${id}`
  const topicKey = (topic: string) => `${prefix}:topic:${topic}`
  const member = (topic: string, userId: string) => JSON.stringify([topic, userId])

  const conns = await connect(target, who)
  const client = conns.client
  /** What this node holds, per topic: the truth the node set in Redis is synced to. */
  const held = new Map<string, Set<string>>()
  const listeners = new Set<{ change: (change: PresenceChange) => void; resync?: (() => void) | undefined }>()
  const inFlight = new Set<Promise<unknown>>()
  let dirty = false
  let beating: Promise<void> | null = null
  let closed = false

  const track = (op: Promise<unknown>) => {
    const done = op.catch(() => {
      // Redis will be told again by the next heartbeat's sync.
      dirty = true
    })
    inFlight.add(done)
    void done.finally(() => inFlight.delete(done))
  }

  async function beat(): Promise<void> {
    const [added, dead] = (await HEARTBEAT.run(client, [nodesKey], [nodeId, String(ttlMs)])) as [number, string[]]
    if (added === 1 || dirty) {
      dirty = false
      const members: string[] = []
      for (const [topic, users] of held) for (const userId of users) members.push(member(topic, userId))
      await SYNC.run(client, [nodeKey(nodeId)], [prefix, channel, ...members])
    }
    for (const node of dead) {
      if (node !== nodeId) await SWEEP.run(client, [nodesKey, nodeKey(node)], [node, prefix, channel, 'dead'])
    }
  }

  function heartbeat(): void {
    if (beating !== null || closed) return
    beating = beat()
      .catch(() => {
        dirty = true
      })
      .finally(() => {
        beating = null
      })
  }

  const sub = await conns.dedicated()
  await sub.subscribe(channel, (message) => {
    let change: PresenceChange
    try {
      change = JSON.parse(message) as PresenceChange
    } catch {
      return
    }
    if (typeof change.topic !== 'string') return
    for (const listener of listeners) listener.change(change)
  })
  // Changes published while the subscription was down are lost: watchers start over.
  sub.on('ready', () => {
    for (const listener of listeners) listener.resync?.()
  })
  await beat()
  const timer = setInterval(heartbeat, heartbeatMs)
  ;(timer as { unref?: () => void }).unref?.()

  return {
    join(topic, userId) {
      let users = held.get(topic)
      if (users === undefined) {
        users = new Set()
        held.set(topic, users)
      }
      users.add(userId)
      const event = JSON.stringify({ topic, joined: userId })
      track(JOIN.run(client, [nodeKey(nodeId), topicKey(topic)], [member(topic, userId), userId, channel, event]))
    },

    leave(topic, userId) {
      const users = held.get(topic)
      users?.delete(userId)
      if (users?.size === 0) held.delete(topic)
      const event = JSON.stringify({ topic, left: userId })
      track(LEAVE.run(client, [nodeKey(nodeId), topicKey(topic)], [member(topic, userId), userId, channel, event]))
    },

    async online(topic) {
      return (await client.sendCommand(['HKEYS', topicKey(topic)])) as string[]
    },

    subscribe(listener, onResync) {
      const entry = { change: listener, resync: onResync }
      listeners.add(entry)
      return () => listeners.delete(entry)
    },

    async close() {
      if (closed) return
      closed = true
      clearInterval(timer)
      // Bounded: with Redis unreachable these wait in the client's offline queue.
      let wait: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        Promise.all([beating, ...inFlight]),
        new Promise((resolve) => {
          wait = setTimeout(resolve, CLOSE_WAIT_MS)
        }),
      ])
      clearTimeout(wait)
      try {
        const self = [nodeId, prefix, channel, 'self']
        await SWEEP.run(client, [nodesKey, nodeKey(nodeId)], self, AbortSignal.timeout(CLOSE_WAIT_MS))
      } catch {
        // Unreachable: the other nodes remove this one after ttlMs.
      }
      listeners.clear()
      await conns.close()
    },
  }
}
