/**
 * `redisLog`: a shared, durable delivery log on a Redis stream, tailed by every node.
 * @module
 */
import {
  type Log,
  type LogAppend,
  type LogEntry,
  type LogFilter,
  type LogGap,
  type LogRead,
  type LogStatus,
  matchesFilter,
  RtError,
} from '../index.js'
import { boundedWrites } from './bounded-writes.js'
import { connect, durationMs, positiveInt, type RedisLike, type RedisTarget, randomId, unavailable } from './client.js'
import { type GroupReplies, groupCommit } from './group-commit.js'
import { Progress, Ring } from './ring.js'
import { ensureEpoch, ROTATE_EPOCH, Script, SERVER_MS } from './script.js'

/** Options of {@link redisLog}. */
export interface RedisLogOptions {
  /**
   * Entries kept in the stream (trimmed with `MAXLEN ~`, so Redis may keep somewhat more).
   * A client whose id was trimmed gets `rt.reset`.
   * @default 100_000
   */
  maxLen?: number
  /** Also trim entries older than this (`MINID ~`). @default no age limit */
  maxAgeMs?: number
  /** Newest entries each node keeps in memory, so most resumes need no round trip. @default 10_000 */
  cache?: number
  /** Publishes that may wait for an unreachable Redis at once; past that `publish` fails at once. @default 1_000 */
  maxPending?: number
  /**
   * How long a publish waits for an unreachable Redis. It then fails with code
   * `unavailable` and is guaranteed not to have been appended.
   * @default 10_000
   */
  publishTimeoutMs?: number
  /**
   * How long a resume waits (`catchUp`) for this node's tail to reach an id another node
   * delivered; a resume still ahead of the tail then fails with `unavailable` and the client
   * retries. @default 5_000
   */
  catchUpMs?: number
}

interface Subscriber {
  entry(entry: LogEntry): void
  gap?: ((gap: LogGap) => void) | undefined
}

/** A position: the stream id `<ms>-<seq>`, where `seq` is the log's own counter. */
interface Position {
  readonly ms: number
  readonly seq: number
  readonly text: string
}

/** An append waiting for its group: the event, and its part of the script's arguments. */
interface PendingAppend {
  readonly input: LogAppend
  readonly args: readonly string[]
}

/** Entries one script call appends at most, and their bytes (data, key, targets). */
const GROUP_ENTRIES = 128
const GROUP_BYTES = 1 << 20

/** How far behind a filtered read may be to be answered by scanning this node's cache. */
const RING_SCAN = 2_000
const DIGITS = /^\d{1,15}$/
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f]/

function position(text: string): Position {
  const dash = text.indexOf('-')
  return { ms: Number(text.slice(0, dash)), seq: Number(text.slice(dash + 1)), text }
}

/**
 * Lua, after `ensureEpoch`: when the epoch was created just now, topic copies left from a
 * lost one (the stream and its meta deleted, the copies not) are dropped, so they are never
 * read as this epoch's entries. `topics` and `prefix` are Lua expressions.
 */
function dropStaleCopies(topics: string, prefix: string): string {
  return `
if epoch == ARGV[1] then
  for _, topic in ipairs(redis.call('ZRANGE', ${topics}, 0, -1)) do redis.call('DEL', ${prefix} .. topic) end
  redis.call('DEL', ${topics})
end`
}

// The entry's stream id is <ms>-<seq>: ms from the Redis clock (never going back), seq from
// a counter. Each entry also carries its epoch (field e): a node whose tail is at 0-0 when
// the stream is replaced takes every id of the new one for new, and only the entries' epoch
// tells it they belong to another stream. MAXLEN/MINID trim the stream; dedupe keys of
// trimmed entries are forgotten.
// Each topic has a stream of its own holding a copy of its entries under the same ids
// (<stream>:s:<topic>), trimmed below the stream's first entry when the topic is appended
// to, so a filtered read is one XRANGE per topic; meta's topicsFrom is the first seq these
// copies cover (entries before it were appended by a release that kept no copies).
// <stream>:topics holds each topic's newest seq, so a topic with nothing left in the stream
// is dropped entirely (with the sorted set earlier code kept for it, <stream>:t:<topic>).
//
// One call appends a group of entries, in order, each as if appended alone (a key appended
// earlier in the same group is a duplicate too); the clean-up of trimmed keys and topics
// runs once at the end. Every check that can refuse runs before the first write, so the
// group is applied whole or not at all (Redis runs a script without interleaving, but
// keeps what it wrote before an error): an entry whose topic stream holds another type is
// answered '2' and not appended, a helper key of another type fails the whole call.
// KEYS: stream, meta, keys (hash key -> id), keyseq (zset key by seq), topics, then the
//       group's topic streams, each once
// ARGV: candidate epoch, maxLen or '0', maxAgeMs or '0', topic stream prefix, earlier code's
//       topic index prefix, then per entry: key or '', type, topic, data, to or '', index in
//       KEYS of its topic stream
// Returns per entry {epoch, id, '0'}, {epoch, id, '1', fields} for a duplicate, {epoch, '', '2'}.
const APPEND = new Script(`
local kinds = {'stream', 'hash', 'hash', 'zset', 'zset'}
for i = 1, 5 do
  local kind = redis.call('TYPE', KEYS[i])['ok']
  if kind ~= 'none' and kind ~= kinds[i] then return redis.error_reply('WRONGTYPE a key of the log holds another type') end
end
${ensureEpoch('KEYS[2]')}${dropStaleCopies('KEYS[5]', 'ARGV[4]')}
local usable = {}
for i = 6, #KEYS do
  local kind = redis.call('TYPE', KEYS[i])['ok']
  usable[i] = kind == 'none' or kind == 'stream'
end
${SERVER_MS}
local floor = tonumber(redis.call('HGET', KEYS[2], 'ms') or '0')
if ms < floor then ms = floor end
local msText = string.format('%.0f', ms)
local seq = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
local appended = 0
local replies = {}
for at = 6, #ARGV, 6 do
  local key = ARGV[at]
  local slot = tonumber(ARGV[at + 5])
  local reply
  if not usable[slot] then
    reply = {epoch, '', '2'}
  elseif key ~= '' then
    local id = redis.call('HGET', KEYS[3], key)
    if id then
      local found = redis.call('XRANGE', KEYS[1], id, id)
      if found[1] then reply = {epoch, id, '1', found[1][2]} end
    end
  end
  if not reply then
    seq = seq + 1
    appended = appended + 1
    if appended == 1 then redis.call('HSETNX', KEYS[2], 'topicsFrom', seq) end
    local id = msText .. '-' .. string.format('%.0f', seq)
    local fields = {'t', ARGV[at + 1], 'p', ARGV[at + 2], 'd', ARGV[at + 3], 'e', epoch}
    if ARGV[at + 4] ~= '' then fields[#fields + 1] = 'u'; fields[#fields + 1] = ARGV[at + 4] end
    if key ~= '' then fields[#fields + 1] = 'k'; fields[#fields + 1] = key end
    if ARGV[2] ~= '0' then
      redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], id, unpack(fields))
    else
      redis.call('XADD', KEYS[1], id, unpack(fields))
    end
    if ARGV[3] ~= '0' then
      redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%.0f', ms - tonumber(ARGV[3])))
    end
    if key ~= '' then
      redis.call('HSET', KEYS[3], key, id)
      redis.call('ZADD', KEYS[4], seq, key)
    end
    local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
    local firstId = id
    if first then firstId = first[1] end
    redis.call('XADD', KEYS[slot], 'MINID', firstId, id, unpack(fields))
    redis.call('ZADD', KEYS[5], seq, ARGV[at + 2])
    reply = {epoch, id, '0'}
  end
  replies[#replies + 1] = reply
end
if appended == 0 then return replies end
redis.call('HSET', KEYS[2], 'seq', string.format('%.0f', seq), 'ms', msText)
local firstSeq = seq
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if first then firstSeq = tonumber(string.match(first[1], '-(%d+)$')) end
local below = '(' .. string.format('%.0f', firstSeq)
-- As much clean-up as the entries appended one at a time would have done.
for _ = 1, appended do
  local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if not (oldest[2] and tonumber(oldest[2]) < firstSeq) then break end
  local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', below, 'LIMIT', 0, 500)
  redis.call('HDEL', KEYS[3], unpack(gone))
  redis.call('ZREM', KEYS[4], unpack(gone))
end
for _ = 1, appended do
  local dead = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', below, 'LIMIT', 0, 100)
  if not dead[1] then break end
  for _, topic in ipairs(dead) do redis.call('DEL', ARGV[4] .. topic, ARGV[5] .. topic) end
  redis.call('ZREM', KEYS[5], unpack(dead))
end
return replies`)

// Everything needed to judge a resume position, in one atomic look. KEYS: stream, meta.
// ARGV: position, count.
const READ = new Script(`
local meta = redis.call('HMGET', KEYS[2], 'epoch', 'seq')
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local exact = 0
if ARGV[1] ~= '0-0' then exact = #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) end
local page = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
local firstId = ''
if first then firstId = first[1] end
return {meta[1] or '', meta[2] or '0', firstId, exact, page}`)

// Where the stream stands. KEYS: stream, meta, topics; ARGV: candidate epoch, topic stream prefix.
const STATE = new Script(`${ensureEpoch('KEYS[2]')}${dropStaleCopies('KEYS[3]', 'ARGV[2]')}
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local lastId = '0-0'
if last then lastId = last[1] end
return {epoch, redis.call('HGET', KEYS[2], 'seq') or '0', lastId}`)

// A filtered read: each of the reader's topic streams after the position, cut where a topic
// had `count` or more (what lies past its last entry read is unknown), merged by seq when
// there are several, keeping the entries the user may see; plus everything READ returns to
// judge the position. A position before topicsFrom is answered `unindexed` (1): the copies
// do not go back that far, the caller reads the stream itself.
// KEYS: stream, meta, then one topic stream per topic.
// ARGV: position, count, position's seq, newest id told to listeners, its seq, user id or ''.
const READ_TOPICS = new Script(`
local meta = redis.call('HMGET', KEYS[2], 'epoch', 'seq', 'topicsFrom')
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local exact = 0
if ARGV[1] ~= '0-0' then exact = #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) end
local firstId = ''
if first then firstId = first[1] end
if not meta[3] or tonumber(ARGV[3]) + 1 < tonumber(meta[3]) then
  return {meta[1] or '', meta[2] or '0', firstId, exact, {}, '', 1}
end
local count = tonumber(ARGV[2])
local bound = tonumber(ARGV[5])
local boundId = ''
local entries
if #KEYS == 3 then
  entries = redis.call('XRANGE', KEYS[3], '(' .. ARGV[1], ARGV[4], 'COUNT', count)
  if #entries == count then boundId = entries[count][1] end
else
  local keyed = {}
  for i = 3, #KEYS do
    local got = redis.call('XRANGE', KEYS[i], '(' .. ARGV[1], ARGV[4], 'COUNT', count)
    for j = 1, #got do
      local seq = tonumber(string.match(got[j][1], '-(%d+)$'))
      keyed[#keyed + 1] = {seq, got[j]}
      if j == count and seq < bound then
        bound = seq
        boundId = got[j][1]
      end
    end
  end
  table.sort(keyed, function(a, b) return a[1] < b[1] end)
  entries = {}
  for _, pair in ipairs(keyed) do
    if pair[1] > bound then break end
    entries[#entries + 1] = pair[2]
  end
end
local page = {}
local cursor = boundId
for _, found in ipairs(entries) do
  local keep = true
  local fields = found[2]
  for f = 7, #fields, 2 do
    if fields[f] == 'u' then
      keep = false
      if ARGV[6] ~= '' then
        for _, user in ipairs(cjson.decode(fields[f + 1])) do
          if user == ARGV[6] then keep = true end
        end
      end
    end
  end
  if keep then
    page[#page + 1] = found
    if #page == count then
      cursor = found[1]
      break
    end
  end
end
return {meta[1] or '', meta[2] or '0', firstId, exact, page, cursor, 0}`)

type RawEntry = [string, string[]]

/** The entries of a one-stream `XREAD` reply: an array in RESP2, a map in RESP3. */
function xreadEntries(reply: unknown): RawEntry[] {
  if (reply === null || typeof reply !== 'object') return []
  if (Array.isArray(reply)) return ((reply[0] as [string, RawEntry[]] | undefined)?.[1] ?? []) as RawEntry[]
  const values = reply instanceof Map ? [...reply.values()] : Object.values(reply)
  return (values[0] ?? []) as RawEntry[]
}

/**
 * A shared, durable delivery log on a Redis stream: appends from any node, resume on any
 * node, retention by length and/or age. Each node tails the stream with `XREAD BLOCK` on a
 * connection of its own and tells its listeners in stream order; it keeps the newest
 * `cache` entries in memory and reads older ones with `XRANGE`.
 *
 * Ids look like `<epoch>.<ms>-<seq>`: `<ms>-<seq>` is the entry's stream id (`seq` is a
 * counter of the log, so evicted and unknown ids are told apart exactly) and the epoch is
 * stored beside the stream, so an id from another stream, or from before the stream was
 * lost, is `unknown`. A duplicate `key` (a source's resume position) returns the first
 * entry, atomically, for as long as that entry is retained.
 *
 * A resume reads only the reader's topics: each append also copies the entry, under the
 * same id, into a stream per topic, so a filtered read is one `XRANGE` per topic and costs
 * what that reader may see, not the whole stream. (Retained entries are stored twice.)
 *
 * Appends commit in groups: those made in the same tick, or while the previous group is on
 * its way, go to Redis as one script call (up to 128 entries and 1 MiB), each appended as it
 * would be alone and each resolving or failing on its own. A group is applied whole or not
 * at all. While Redis is not ready, appends wait one by one (`maxPending`, `publishTimeoutMs`).
 *
 * The stream belongs to rt: do not `XADD` to it by other means. Its helper keys are
 * `<stream>:meta`, `<stream>:keys`, `<stream>:keyseq`, `<stream>:topics` and one
 * `<stream>:s:<topic>` per topic. Code from before these topic streams kept a sorted set
 * per topic (`<stream>:t:<topic>`) instead: stop every node running it before a
 * node running this code appends (its appends have no copies, and it reads no copies); entries
 * it appended are still resumed from, by reading the stream unfiltered, and its sorted
 * sets are deleted as their topics expire. On Redis Cluster give the name a hash tag
 * (`{rt}:events`) so they share a slot. Needs Redis 6.2+. Resolves once tailing.
 *
 * @example
 * ```ts
 * import { redisLog } from '@rt/server/redis'
 * const log = await redisLog({ url: process.env.REDIS_URL, stream: 'rt:events' }, { maxAgeMs: 86_400_000 })
 * const hub = createHub({ log })
 * ```
 */
export async function redisLog(
  target: RedisTarget & { readonly stream: string },
  options: RedisLogOptions = {},
): Promise<Log> {
  const who = 'redisLog'
  const stream = target.stream
  if (typeof stream !== 'string' || stream === '') throw new RtError('invalid_option', `${who}: stream is required`)
  const maxLen = positiveInt(who, 'maxLen', options.maxLen, 100_000)
  const maxAgeMs = options.maxAgeMs === undefined ? 0 : positiveInt(who, 'maxAgeMs', options.maxAgeMs, 0)
  const cache = positiveInt(who, 'cache', options.cache, 10_000)
  const maxPending = positiveInt(who, 'maxPending', options.maxPending, 1_000)
  const publishTimeoutMs = durationMs(who, 'publishTimeoutMs', options.publishTimeoutMs, 10_000)
  const catchUpMs = durationMs(who, 'catchUpMs', options.catchUpMs, 5_000)
  const metaKey = `${stream}:meta`
  const topicPrefix = `${stream}:s:`
  /** The sorted sets earlier code kept per topic; deleted with their topic. */
  const legacyPrefix = `${stream}:t:`
  const topicsKey = `${stream}:topics`
  /** The helper keys every append touches, before its topic streams. */
  const keys = [stream, metaKey, `${stream}:keys`, `${stream}:keyseq`, topicsKey]

  const conns = await connect(target, who)
  const writes = boundedWrites(who, () => conns.client.isReady, maxPending, publishTimeoutMs)
  const ring = new Ring(cache)
  const progress = new Progress()
  const subscribers = new Set<Subscriber>()
  let epoch = ''
  /** Stream id of the last entry told to listeners. */
  let cursor = '0-0'
  let gaps = 0
  let closed = false

  /** The epoch an entry was appended under; entries of code from before it carry none. */
  function epochOf(fields: readonly string[]): string | undefined {
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'e') return fields[i + 1]
    return undefined
  }

  function toEntry(id: string, fields: readonly string[]): LogEntry {
    let type = ''
    let topic = ''
    let data = 'null'
    let to: string | undefined
    let key: string | undefined
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const value = fields[i + 1] as string
      switch (fields[i]) {
        case 't':
          type = value
          break
        case 'p':
          topic = value
          break
        case 'd':
          data = value
          break
        case 'u':
          to = value
          break
        case 'k':
          key = value
          break
      }
    }
    return {
      id: `${epoch}.${id}`,
      type,
      topic,
      to: to === undefined ? undefined : (JSON.parse(to) as string[]),
      data: JSON.parse(data),
      ts: Number(id.slice(0, id.indexOf('-'))),
      key,
    }
  }

  /**
   * Where the stream stands; restarts this node's view when it is not the stream we tailed
   * (Redis lost it, or went back in time). Resolves to whether it restarted.
   */
  async function settle(first: boolean): Promise<boolean> {
    let [e, seqText, lastId] = (await STATE.run(
      conns.client,
      [stream, metaKey, topicsKey],
      [randomId(), topicPrefix],
    )) as string[]
    const last = position(lastId as string)
    const rolledBack = e === epoch && (Number(seqText) < ring.last || last.seq < ring.last)
    if (!first && e === epoch && !rolledBack) return false
    if (rolledBack) {
      // Redis went back in time: the next ids would repeat delivered ones; new epoch.
      e = (await ROTATE_EPOCH.run(conns.client, [metaKey], [epoch, randomId()])) as string
    }
    epoch = e as string
    cursor = last.text
    ring.restart(last.seq)
    if (first) return true
    gaps++
    const gap: LogGap = { id: `${epoch}.${cursor}`, reason: 'unknown' }
    for (const sub of subscribers) sub.gap?.(gap)
    progress.wake()
    return true
  }

  async function tail(reader: RedisLike): Promise<void> {
    let failures = 0
    while (!closed) {
      try {
        if (failures > 0) await settle(false)
        const reply = await reader.sendCommand(['XREAD', 'COUNT', '500', 'BLOCK', '1000', 'STREAMS', stream, cursor])
        failures = 0
        const entries = xreadEntries(reply)
        // Quiet for a second: check the stream is still ours. A stream deleted and written
        // again may carry ids that sort before our cursor, which XREAD would never return.
        if (entries.length === 0) await settle(false)
        for (const [id, fields] of entries) {
          const seq = position(id).seq
          // Not after what we told, or appended under another epoch: the stream was deleted
          // or replaced under us.
          const other = epochOf(fields)
          if (seq <= ring.last || (other !== undefined && other !== epoch)) {
            if (!(await settle(false))) cursor = id
            break
          }
          const entry = toEntry(id, fields)
          cursor = id
          ring.push(seq, entry)
          for (const sub of subscribers) sub.entry(entry)
        }
        progress.wake()
      } catch {
        if (closed) return
        failures++
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 50 * 2 ** failures)))
      }
    }
  }

  /** Parses `<epoch>.<ms>-<seq>`; another log's id is `unknown`, garbage `malformed`. */
  function parse(id: string): Position | 'malformed' | 'unknown' {
    const dash = id.lastIndexOf('-')
    if (dash <= 0 || !DIGITS.test(id.slice(dash + 1)) || CONTROL.test(id)) return 'malformed'
    const dot = id.lastIndexOf('.', dash)
    if (dot <= 0 || id.slice(0, dot) !== epoch) return 'unknown'
    const ms = id.slice(dot + 1, dash)
    if (!DIGITS.test(ms)) return 'malformed'
    return position(id.slice(dot + 1))
  }

  /** Why a stored position cannot be resumed from, or null when it can. */
  function judge(after: Position, metaEpoch: string, metaSeq: string, firstId: string, exact: number): LogRead | null {
    const newest = Number(metaSeq)
    if (metaEpoch !== epoch || after.seq > newest) return { ok: false, reason: 'unknown' }
    const first = firstId === '' ? null : position(firstId).seq
    // Our seq, their ms: a forged or mangled id.
    if (exact === 0 && first !== null && after.seq >= first && after.seq > 0) return { ok: false, reason: 'unknown' }
    if (exact === 0 && after.seq < newest && (first === null || first > after.seq + 1)) {
      return { ok: false, reason: 'evicted' }
    }
    return null
  }

  /** A filtered read through the topic streams, up to what listeners were told. */
  async function readTopics(after: Position, limit: number, filter: LogFilter): Promise<LogRead> {
    const toldId = cursor
    const told = position(toldId).seq
    const topicKeys = [...filter.topics].map((topic) => topicPrefix + topic)
    const args = [after.text, String(limit), String(after.seq), toldId, String(told), filter.userId ?? '']
    const reply = (await READ_TOPICS.run(conns.client, [stream, metaKey, ...topicKeys], args)) as [
      string,
      string,
      string,
      number,
      RawEntry[],
      string,
      number,
    ]
    const [metaEpoch, metaSeq, firstId, exact, page, reached, unindexed] = reply
    const refused = judge(after, metaEpoch, metaSeq, firstId, exact)
    if (refused !== null) return refused
    // Older than the topic streams (appended by earlier code): the whole stream.
    if (unindexed === 1) {
      const plain = await readStored(after, limit)
      if (!plain.ok) return plain
      const last = plain.entries.at(-1)?.id ?? `${epoch}.${after.text}`
      return { ...plain, entries: plain.entries.filter((e) => matchesFilter(e, filter)), cursor: last }
    }
    const entries = page.map(([id, fields]) => ring.get(position(id).seq) ?? toEntry(id, fields))
    const end = reached === '' ? toldId : reached
    return { ok: true, entries, more: position(end).seq < told, cursor: `${epoch}.${end}` }
  }

  async function readStored(after: Position, limit: number): Promise<LogRead> {
    const reply = (await READ.run(conns.client, [stream, metaKey], [after.text, String(limit)])) as [
      string,
      string,
      string,
      number,
      RawEntry[],
    ]
    const [metaEpoch, metaSeq, firstId, exact, page] = reply
    const refused = judge(after, metaEpoch, metaSeq, firstId, exact)
    if (refused !== null) return refused
    // Only entries listeners were told about, so the seam between replay and live stays exact.
    const told = ring.last
    const entries: LogEntry[] = []
    for (const [id, fields] of page) {
      const seq = position(id).seq
      if (seq > told) break
      entries.push(ring.get(seq) ?? toEntry(id, fields))
    }
    const lastSeq = entries.length === 0 ? after.seq : position(page[entries.length - 1]?.[0] as string).seq
    return { ok: true, entries, more: entries.length === limit && lastSeq < told }
  }

  /** Appends `group` with one script call; each entry's reply or error, in order. */
  function appendGroup(group: readonly PendingAppend[], signal?: AbortSignal): Promise<GroupReplies<LogEntry>> {
    const topicKeys: string[] = []
    const slots = new Map<string, string>()
    const args = [randomId(), String(maxLen), String(maxAgeMs), topicPrefix, legacyPrefix]
    for (const { input, args: own } of group) {
      let slot = slots.get(input.topic)
      if (slot === undefined) {
        topicKeys.push(topicPrefix + input.topic)
        slot = String(keys.length + topicKeys.length)
        slots.set(input.topic, slot)
      }
      args.push(...own, slot)
    }
    // Issued before the first await, so groups reach Redis in the order they were taken.
    const sent = APPEND.run(conns.client, [...keys, ...topicKeys], args, signal)
    return sent.then((reply) => {
      const replies = reply as [string, string, string, string[]?][]
      return group.map(({ input }, i) => {
        const [e, id, outcome, fields] = replies[i] ?? []
        if (e === undefined || id === undefined) return unavailable(who, undefined, 'Redis answered the append oddly')
        if (outcome === '2')
          return unavailable(who, undefined, 'Redis refused the append: a key of the log holds another type')
        if (outcome === '1' && fields !== undefined) {
          return e === epoch
            ? (ring.get(position(id).seq) ?? toEntry(id, fields))
            : { ...toEntry(id, fields), id: `${e}.${id}` }
        }
        return {
          id: `${e}.${id}`,
          type: input.type,
          topic: input.topic,
          to: input.to,
          data: input.data,
          ts: position(id).ms,
          key: input.key,
        }
      })
    })
  }
  const group = groupCommit<PendingAppend, LogEntry>(
    // Redis went away since these were queued: they wait no longer than a lone append.
    (items) => appendGroup(items, conns.client.isReady ? undefined : AbortSignal.timeout(publishTimeoutMs)),
    GROUP_ENTRIES,
    GROUP_BYTES,
  )

  await settle(true)
  const reader = await conns.dedicated()
  void tail(reader)

  return {
    async append(input: LogAppend): Promise<LogEntry> {
      if (closed) throw new RtError('hub_closed', `${who}: closed`)
      const pending: PendingAppend = {
        input,
        args: [
          input.key ?? '',
          input.type,
          input.topic,
          JSON.stringify(input.data),
          input.to === undefined ? '' : JSON.stringify(input.to),
        ],
      }
      const size = pending.args.reduce((sum, arg) => sum + arg.length, 0)
      return writes.run(async (signal) => {
        // Redis is up: with whatever else arrives now. Otherwise alone, after what is
        // queued, with its own timeout.
        if (signal === undefined) return group.add(pending, size)
        group.flush()
        const [reply] = await appendGroup([pending], signal)
        if (reply instanceof Error) throw reply
        return reply as LogEntry
      })
    },

    /** An id another node told before this node's tail got there: wait for the tail, bounded. */
    async catchUp(afterId: string): Promise<void> {
      const after = parse(afterId)
      if (typeof after === 'string' || after.seq <= ring.last) return
      const from = epoch
      await progress.until(() => epoch !== from || ring.last >= after.seq, catchUpMs)
    },

    async read(afterId: string, limit: number, filter?: LogFilter): Promise<LogRead> {
      const after = parse(afterId)
      if (typeof after === 'string') return { ok: false, reason: after }
      if (after.seq >= ring.base && after.seq <= ring.last) {
        const held = ring.get(after.seq)
        if (held !== undefined && held.id !== afterId) return { ok: false, reason: 'unknown' }
        if (filter === undefined) return { ok: true, ...ring.after(after.seq, limit) }
        // A short way behind: scanning what this node holds beats a round trip.
        if (ring.last - after.seq <= RING_SCAN) {
          const { entries, more, last } = ring.afterMatching(after.seq, limit, RING_SCAN, (e) =>
            matchesFilter(e, filter),
          )
          return { ok: true, entries, more, cursor: ring.get(last)?.id ?? afterId }
        }
      }
      // As the read starts: a read is bounded by what listeners were told, so one begun
      // behind the position would answer a cursor behind it (old entries sent again). The
      // caller waits in catchUp first; a position still ahead of the tail is refused below
      // (after Redis has said whether it exists at all: a forged one is `unknown`).
      const behind = after.seq > ring.last
      const at = epoch
      const page = filter === undefined ? await readStored(after, limit) : await readTopics(after, limit, filter)
      // The tail restarted on a new epoch meanwhile (Redis lost the stream): the page's ids
      // and cursor belong to neither epoch for sure, and the position is now unknown.
      if (epoch !== at) return { ok: false, reason: 'unknown' }
      // Valid, but this node's tail was behind it: let the client retry.
      if (page.ok && (behind || after.seq > ring.last)) {
        throw unavailable(who, undefined, 'this node is behind the stream')
      }
      return page
    },

    /** From this node's cache: an id older than it is reported unverified. */
    async lookup(ids) {
      return ids.map((id) => {
        const at = parse(id)
        const held = typeof at === 'string' ? undefined : ring.get(at.seq)
        return held?.id === id ? held : undefined
      })
    },

    head: () => `${epoch}.${cursor}`,

    subscribe(listener, onGap) {
      const sub: Subscriber = { entry: listener, gap: onGap }
      subscribers.add(sub)
      return () => subscribers.delete(sub)
    },

    status(): LogStatus {
      const up = conns.up
      return {
        state: up ? 'ok' : 'degraded',
        detail: up ? undefined : 'redis unreachable',
        pending: writes.pending,
        gaps,
      }
    },

    async close() {
      if (closed) return
      closed = true
      subscribers.clear()
      progress.wake()
      await conns.close()
    },
  }
}
