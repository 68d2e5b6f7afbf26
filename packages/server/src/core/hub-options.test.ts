// createHub's option shape checks: each wrong shape fails at createHub with a message that names what was expected.
import { describe, expect, test } from 'vitest'
import { isRtError } from './errors.js'
import { createHub } from './hub.js'
import { memoryLog } from './memory-log.js'
import type { HubOptions } from './types.js'

/** The error `createHub(options)` throws, or a failure when it throws none. */
function rejectionOf(options: unknown): { code: string; message: string } {
  try {
    createHub(options as HubOptions)
  } catch (error) {
    if (!isRtError(error)) throw error
    return { code: error.code, message: error.message }
  }
  throw new Error('createHub accepted the options')
}

describe('createHub option shapes', () => {
  test('a Promise passed as log (a forgotten await) asks whether await was forgotten', async () => {
    const makeLog = async () => memoryLog()
    const pending = makeLog()
    // @ts-expect-error a Promise is not a Log: TypeScript users see this at compile time
    expect(() => createHub({ log: pending })).toThrow(/log is a Promise; did you forget await\?/)
    expect(rejectionOf({ log: pending })).toEqual({
      code: 'invalid_option',
      message: expect.stringContaining('did you forget await?'),
    })
    // The awaited value is accepted.
    const hub = createHub({ log: await pending })
    await hub.close()
  })

  test('a Promise passed as presence asks the same', () => {
    expect(rejectionOf({ presence: Promise.resolve({}) }).message).toMatch(
      /presence is a Promise; did you forget await\?/,
    )
  })

  test('a log without the Log methods names the missing ones', () => {
    const { code, message } = rejectionOf({ log: { append: () => {}, read: () => {} } })
    expect(code).toBe('invalid_option')
    expect(message).toContain('missing head, subscribe')
    expect(rejectionOf({ log: 'redis://localhost' }).message).toMatch(
      /log must be an object .*got the string "redis:\/\/localhost"/,
    )
    expect(rejectionOf({ log: [] }).message).toContain('got an array')
  })

  test('hooks must be functions', () => {
    expect(rejectionOf({ authenticate: true }).message).toBe(
      'createHub: authenticate must be a function, got boolean true',
    )
    expect(rejectionOf({ authorize: 'yes' }).message).toContain('authorize must be a function')
    expect(rejectionOf({ onError: null }).message).toBe('createHub: onError must be a function, got null')
  })

  test('durations and limits that are not numbers get the one message their ranges get (options.ts)', () => {
    expect(rejectionOf({ heartbeatMs: '15000' })).toEqual({
      code: 'invalid_option',
      message: 'createHub: heartbeatMs must be a number of milliseconds from 1 to 2147483647, got the string "15000"',
    })
    expect(rejectionOf({ coalesceMs: '4' }).message).toBe(
      'createHub: coalesceMs must be a number of milliseconds from 0 to 2147483647, got the string "4"',
    )
    expect(rejectionOf({ maxTopics: 10n }).message).toBe(
      'createHub: maxTopics must be a positive finite number, got a bigint',
    )
  })

  test('timers need setInterval and clearInterval', () => {
    expect(rejectionOf({ timers: { setInterval: () => 0 } }).message).toContain('missing clearInterval')
  })

  test('the options themselves must be an object', () => {
    expect(rejectionOf(null).message).toBe('createHub: options must be an object, got null')
    expect(rejectionOf(Promise.resolve({})).message).toContain('got a Promise')
  })

  test('well-shaped options and no options are accepted', async () => {
    const hubs = [
      createHub(),
      createHub({}),
      createHub({
        log: memoryLog(),
        authenticate: () => ({ userId: 'u1' }),
        authorize: () => true,
        onError: () => {},
        heartbeatMs: 1_000,
        coalesceMs: 0,
        timers: { setInterval, clearInterval },
      }),
    ]
    await Promise.all(hubs.map((hub) => hub.close()))
  })
})
