/**
 * Shape checks for `createHub`'s object and function options: a wrong kind of value fails
 * at `createHub` with a message that says what was expected, not later deep inside the hub.
 * Numbers are `options.ts`'s.
 * @module
 */
import { RtError } from './errors.js'
import { describeValue as describe, isThenable } from './options.js'

/** Options that must be functions when given. */
const FUNCTIONS = ['authenticate', 'authorize', 'onError'] as const

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

/**
 * Throws `RtError('invalid_option')` when an option has the wrong shape: a Promise where an
 * object is expected (a forgotten `await`), a missing method, a non-function hook.
 * Numeric options are checked, shape and range in one rule, where they are read
 * (`durationOption`, `countOption` in `options.ts`).
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
}
