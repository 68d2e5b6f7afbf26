/**
 * The size budget of `@rt/client` in a browser bundle, as `npm run size` prints it.
 */
import { expect, test } from 'vitest'
import { CLIENT_LIMIT, measureClient } from '../scripts/size.js'

test('createClient with eventsource-parser, minified and gzipped, stays under 5 KiB', async () => {
  const { gzipped, minified, code } = await measureClient()
  expect(gzipped).toBeGreaterThan(1_000)
  expect(gzipped, `${gzipped} bytes gzipped`).toBeLessThanOrEqual(CLIENT_LIMIT)
  expect(minified).toBeGreaterThan(gzipped)
  // A browser bundle: no Node built-ins, and the parser is in it rather than left to resolve.
  expect(code).not.toMatch(/from\s*["']node:/)
  expect(code).not.toMatch(/from\s*["']eventsource-parser["']/)
  expect(code).toMatch(/export\s*\{/)
})
