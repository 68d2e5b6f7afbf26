/**
 * The size budget of `@rt/react` in a browser bundle, as `npm run size` prints it: every
 * hook with `@rt/client`, React left to the app.
 */
import { expect, test } from 'vitest'
import { measureReact, measureReactHooks, REACT_LIMIT } from '../scripts/size.js'

test('@rt/react with its client, minified and gzipped, stays under 8 KiB and leaves React out', async () => {
  const { gzipped, code } = await measureReact()
  expect(gzipped, `${gzipped} bytes gzipped`).toBeLessThanOrEqual(REACT_LIMIT)
  // React is the app's: imported, never bundled.
  expect(code).toMatch(/from\s*["']react["']/)
  expect(code).not.toMatch(/react\.production|__SECRET_INTERNALS|ReactCurrentDispatcher/)
  // The client is in it, not left to resolve.
  expect(code).not.toMatch(/from\s*["']@rt\/client["']/)
  const hooks = await measureReactHooks()
  expect(hooks.gzipped).toBeLessThan(gzipped)
  expect(hooks.code).toMatch(/from\s*["']@rt\/client["']/)
})
