/**
 * The size budgets of `@rt/client` and `@rt/client/share` in a browser bundle, as
 * `npm run size` prints them.
 */
import { expect, test } from 'vitest'
import { CLIENT_LIMIT, measureClient, SHARE_LIMIT } from '../scripts/size.js'

test('createClient with its SSE reader, minified and gzipped, stays under 5 KiB', async () => {
  const { gzipped, minified, code } = await measureClient()
  expect(gzipped).toBeGreaterThan(1_000)
  expect(gzipped, `${gzipped} bytes gzipped`).toBeLessThanOrEqual(CLIENT_LIMIT)
  expect(minified).toBeGreaterThan(gzipped)
  // A browser bundle: nothing left to resolve (no Node built-ins, no package).
  expect(code).not.toMatch(/from\s*["']/)
  expect(code).toMatch(/export\s*\{/)
})

test('createClient with tab sharing (@rt/client/share), minified and gzipped, stays under 6 KiB', async () => {
  const [plain, shared] = await Promise.all([measureClient(), measureClient('share/index')])
  expect(shared.gzipped, `${shared.gzipped} bytes gzipped`).toBeLessThanOrEqual(SHARE_LIMIT)
  // The sharing is its own entry: the plain client does not carry it.
  expect(shared.gzipped).toBeGreaterThan(plain.gzipped + 500)
  expect(plain.code).not.toContain('BroadcastChannel')
  expect(shared.code).toContain('BroadcastChannel')
})
