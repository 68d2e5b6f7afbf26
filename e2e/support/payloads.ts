/**
 * Payloads that break naive SSE encoders: line breaks of every kind, SSE syntax inside
 * data, unicode from the BMP and beyond, empty values, 64 KiB bodies, every JSON shape.
 * Conformance tests publish all of them and expect each back exactly.
 */

export interface Payload {
  /** What the case is about, for failure messages. */
  readonly name: string
  /** The event type to publish it as. */
  readonly type: string
  readonly data: unknown
}

/** Event types a client must listen to for {@link PAYLOADS}. */
export const PAYLOAD_TYPES = ['message', 'message.new', 'ünïcødé', 'with space', 'a:b', '😀'] as const

/** 64 KiB of text with line breaks, quotes, escapes and multi-byte characters. */
function mixed64k(): string {
  const unit = 'line\nquote"back\\slash\r\ncr\rtab\t€😀 '
  let out = ''
  while (out.length + unit.length <= 65_536) out += unit
  // Whole units only, so no surrogate pair is cut in half.
  return out.padEnd(65_536, 'x')
}

const cases: ReadonlyArray<readonly [name: string, data: unknown]> = [
  ['multi-line', 'line 1\nline 2\n\nline 4'],
  ['CR', 'a\rb'],
  ['CRLF', 'a\r\nb\r\n'],
  ['lone CR', '\r'],
  ['lone LF', '\n'],
  ['blank lines', '\n\n\n'],
  ['SSE syntax in data', 'data: fake\n\nid: 1\nevent: rt.reset\nretry: 1\n: comment\n'],
  ['NUL and other controls', '\u0000\u0001\u0008\u001b[31m\u007f'],
  ['unicode', 'héllo wörld — ünïcødé 中文 עברית العربية'],
  ['astral and emoji', '😀 👩‍👩‍👧‍👦 🏳️‍🌈 𝄞 𠜎'],
  ['unicode line separators', 'a\u2028b\u2029c\u0085d'],
  ['BOM', '\ufeffstarts with a BOM'],
  ['lone surrogates', 'high \ud800 low \udfff'],
  ['empty string', ''],
  ['spaces only', '   '],
  ['64 KiB ascii', 'x'.repeat(65_536)],
  ['64 KiB mixed', mixed64k()],
  [
    'object',
    {
      text: 'a\nb',
      nested: { list: [1, 'two', null, true, false, { deep: [] }] },
      'key\nwith\r\nbreaks': 'value',
      '': 'empty key',
      '😀': '😀',
    },
  ],
  ['array', [1, 'a\r\nb', null, [], {}, [[['deep']]]]],
  ['empty object', {}],
  ['empty array', []],
  ['zero', 0],
  ['negative fraction', -1.5],
  ['large number', 1e21],
  ['max safe integer', Number.MAX_SAFE_INTEGER],
  ['smallest double', 5e-324],
  ['null', null],
  ['true', true],
  ['false', false],
]

/** Every case, each with an event type taken in turn from {@link PAYLOAD_TYPES}. */
export const PAYLOADS: readonly Payload[] = cases.map(([name, data], i) => ({
  name,
  type: PAYLOAD_TYPES[i % PAYLOAD_TYPES.length] as string,
  data,
}))
