/**
 * Shape checks for `createHub` options: a wrong kind of value fails at `createHub` with a
 * message that says what was expected, not later deep inside the hub.
 * @module
 */
import { RtError } from './errors.js'

/** Options that must be functions when given. */
const FUNCTIONS = ['authenticate', 'authorize', 'onError'] as const

/** Options that must be numbers when given (their ranges are checked where they are read). */
const NUMBERS = [
  'heartbeatMs',
  'retryMs',
  'maxConnectionsPerIdentity',
  'maxConnections',
  'maxBufferedBytes',
  'coalesceMs',
  'pollTimeoutMs',
  'maxTopics',
  'maxQueryLength',
] as const

/** Objects the hub calls into, with the methods each must have. */
const OBJECTS = {
  log: {
    methods: ['append', 'read', 'head', 'subscribe'],
    example: 'memoryLog(), await redisLog(...) or await mongoLog(...)',
  },
  presence: { methods: ['join', 'leave', 'online', 'subscribe'], example: 'await redisPresence(...)' },
  timers: { methods: ['setInterval', 'clearInterval'], example: '{ setInterval, clearInterval }' },
} as const

function fail(message: string): never {
  throw new RtError('invalid_option', `createHub: ${message}`)
}

/** What a value is, in words, for error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (isThenable(value)) return 'a Promise'
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  return `a ${typeof value === 'object' ? 'plain object' : typeof value}`
}

function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/**
 * Throws `RtError('invalid_option')` when an option has the wrong shape: a Promise where an
 * object is expected (a forgotten `await`), a missing method, a non-function hook, a
 * non-number duration or limit.
 */
export function checkHubOptions(options: unknown): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options) || isThenable(options)) {
    fail(`options must be an object, got ${describe(options)}`)
  }
  const given = options as Record<string, unknown>

  for (const [name, { methods, example }] of Object.entries(OBJECTS)) {
    const value = given[name]
    if (value === undefined) continue
    if (isThenable(value)) fail(`${name} is a Promise; did you forget await? (${name}: ${example})`)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail(`${name} must be an object such as ${example}, got ${describe(value)}`)
    }
    const missing = methods.filter((method) => typeof (value as Record<string, unknown>)[method] !== 'function')
    if (missing.length > 0) {
      fail(`${name} must have the methods ${methods.join(', ')} (missing ${missing.join(', ')}), as ${example} returns`)
    }
  }
  for (const name of FUNCTIONS) {
    const value = given[name]
    if (value !== undefined && typeof value !== 'function') fail(`${name} must be a function, got ${describe(value)}`)
  }
  for (const name of NUMBERS) {
    const value = given[name]
    if (value !== undefined && typeof value !== 'number') fail(`${name} must be a number, got ${describe(value)}`)
  }
}
