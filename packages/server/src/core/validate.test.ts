import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { isRtError, type RtErrorCode } from './errors.js'
import { createHub } from './hub.js'
import { checkPublish } from './validate.js'

/** Every C0 control character and DEL: each could end or split an SSE line in some parser. */
const CONTROL = [...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)), '\u007f']
const LINE_BREAKERS = ['\r', '\n', '\r\n', '\u0000']
const LONE_SURROGATES = ['\ud800', '\udfff', 'a\ud83d', '\ude00b']

const base = { type: 'message.new', topic: 'room:1', data: { text: 'hi' } }

/** Each field that ends up on the wire or in the log, with the code its rejection carries. */
const FIELDS: ReadonlyArray<{ name: string; code: RtErrorCode; with: (value: string) => Record<string, unknown> }> = [
  { name: 'type', code: 'invalid_type', with: (type) => ({ ...base, type }) },
  { name: 'topic', code: 'invalid_topic', with: (topic) => ({ ...base, topic }) },
  { name: 'to', code: 'invalid_recipient', with: (to) => ({ ...base, to }) },
  { name: 'to[]', code: 'invalid_recipient', with: (to) => ({ ...base, to: ['u1', to] }) },
  { name: 'key', code: 'invalid_key', with: (key) => ({ ...base, key }) },
]

function codeOf(run: () => unknown): RtErrorCode | 'accepted' {
  try {
    run()
    return 'accepted'
  } catch (error) {
    if (!isRtError(error)) throw error
    expect(error.name).toBe('RtError')
    return error.code
  }
}

describe('checkPublish', () => {
  test.each(FIELDS.map((field) => [field.name, field] as const))(
    '%s rejects every control character in any position',
    (_, field) => {
      for (const char of CONTROL) {
        for (const value of [char, `a${char}`, `${char}b`, `a${char}b`]) {
          expect(
            codeOf(() => checkPublish(field.with(value))),
            JSON.stringify(value),
          ).toBe(field.code)
        }
      }
    },
  )

  test.each(FIELDS.map((field) => [field.name, field] as const))('%s rejects lone surrogates', (_, field) => {
    for (const value of LONE_SURROGATES) {
      expect(
        codeOf(() => checkPublish(field.with(value))),
        JSON.stringify(value),
      ).toBe(field.code)
    }
  })

  test.each(FIELDS.map((field) => [field.name, field] as const))(
    '%s rejects empty and non-string values',
    (_, field) => {
      expect(codeOf(() => checkPublish(field.with('')))).toBe(field.code)
      for (const value of [42, null, {}, true]) {
        expect(codeOf(() => checkPublish(field.with(value as unknown as string)))).toBe(field.code)
      }
    },
  )

  test('accepts printable unicode names, astral characters and SSE-looking text', () => {
    for (const value of [
      'message.new',
      'a:b',
      ' spaced out ',
      'ünïcødé',
      '✉️ mail',
      '😀',
      'data: x',
      'id:1',
      '\u2028\u2029',
    ]) {
      for (const field of FIELDS) {
        if (field.code === 'invalid_topic' && value.includes(',')) continue
        expect(
          codeOf(() => checkPublish(field.with(value))),
          JSON.stringify(value),
        ).toBe('accepted')
      }
    }
  })

  test('reserves the rt. prefix for control events', () => {
    for (const type of ['rt.connected', 'rt.reset', 'rt.closing', 'rt.', 'rt.anything']) {
      expect(codeOf(() => checkPublish({ ...base, type }))).toBe('invalid_type')
    }
    for (const type of ['rt', 'rtx', 'art.x', 'RT.x', 'x.rt.']) {
      expect(codeOf(() => checkPublish({ ...base, type }))).toBe('accepted')
    }
  })

  test('rejects overlong names, commas in topics and malformed recipients', () => {
    expect(codeOf(() => checkPublish({ ...base, type: 'x'.repeat(257) }))).toBe('invalid_type')
    expect(codeOf(() => checkPublish({ ...base, type: 'x'.repeat(256) }))).toBe('accepted')
    expect(codeOf(() => checkPublish({ ...base, topic: 'x'.repeat(257) }))).toBe('invalid_topic')
    expect(codeOf(() => checkPublish({ ...base, topic: 'a,b' }))).toBe('invalid_topic')
    expect(codeOf(() => checkPublish({ ...base, to: { id: 'u1' } }))).toBe('invalid_recipient')
    expect(codeOf(() => checkPublish({ ...base, key: 'k'.repeat(513) }))).toBe('invalid_key')
    expect(codeOf(() => checkPublish({ ...base, key: 'k'.repeat(512) }))).toBe('accepted')
    expect(codeOf(() => checkPublish(null))).toBe('invalid_type')
  })

  test('non-serialisable data is invalid_data, with the cause kept', () => {
    const cycle: Record<string, unknown> = { a: 1 }
    cycle.self = cycle
    const cases: unknown[] = [10n, { nested: [1n] }, cycle, () => 1, Symbol('s')]
    for (const data of cases) {
      expect(
        codeOf(() => checkPublish({ ...base, data })),
        String(typeof data),
      ).toBe('invalid_data')
    }
    try {
      checkPublish({ ...base, data: cycle })
      expect.unreachable()
    } catch (error) {
      expect((error as Error).cause).toBeInstanceOf(TypeError)
    }
  })

  test('serialises once, to JSON with no raw line break', () => {
    const data = { text: 'a\r\nb\rc\nd\u0000e\u2028', n: 1.5, list: [null, true], '\n': 'key' }
    const checked = checkPublish({ ...base, data, to: ['u1', 'u1', 'u2'] })
    expect(checked.json).toBe(JSON.stringify(data))
    for (const raw of ['\r', '\n', '\u0000']) expect(checked.json).not.toContain(raw)
    expect(checked.to).toEqual(['u1', 'u2'])
    expect(checkPublish({ type: 't', topic: 'a', data: undefined }).json).toBe('null')
  })

  test('property: any string holding CR, LF or NUL is rejected in every field with its code', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        fc.constantFrom(...LINE_BREAKERS),
        fc.integer({ min: 0, max: FIELDS.length - 1 }),
        (before, after, breaker, fieldIndex) => {
          const field = FIELDS[fieldIndex] as (typeof FIELDS)[number]
          expect(codeOf(() => checkPublish(field.with(`${before}${breaker}${after}`)))).toBe(field.code)
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('hub.publish', () => {
  test('rejects injection attempts with the documented RtError code and logs nothing', async () => {
    const hub = createHub()
    const attempts: Array<[Record<string, unknown>, RtErrorCode]> = [
      [{ ...base, type: 'evil\nid: 1' }, 'invalid_type'],
      [{ ...base, type: 'evil\r\ndata: x' }, 'invalid_type'],
      [{ ...base, type: 'evil\rretry: 1' }, 'invalid_type'],
      [{ ...base, type: 'evil\u0000' }, 'invalid_type'],
      [{ ...base, type: 'rt.reset' }, 'invalid_type'],
      [{ ...base, topic: 'room\n1' }, 'invalid_topic'],
      [{ ...base, topic: 'room\u0000' }, 'invalid_topic'],
      [{ ...base, to: 'u1\r\n' }, 'invalid_recipient'],
      [{ ...base, to: ['u1', 'u\u00002'] }, 'invalid_recipient'],
      [{ ...base, key: 'k\n' }, 'invalid_key'],
      [{ ...base, key: 'k\u001b[0m' }, 'invalid_key'],
      [{ ...base, data: 1n }, 'invalid_data'],
      [{ ...base, data: () => 'x' }, 'invalid_data'],
    ]
    for (const [i, [input, code]] of attempts.entries()) {
      const rejection = await hub.publish(input as never).then(
        () => null,
        (error: unknown) => error,
      )
      expect(isRtError(rejection), `attempt ${i}`).toBe(true)
      expect(rejection).toMatchObject({ name: 'RtError', code })
    }
    expect(hub.stats().published).toBe(0)
    await expect(hub.publish(base as never)).resolves.toMatch(/^\S+$/)
    expect(hub.stats().published).toBe(1)
    await hub.close()
  })
})
