/**
 * Before any test file starts: `next build` of the notifications example when a source
 * changed (about 25 s on two cores, using every core). Built here, it cannot starve the
 * tests that would otherwise run beside it; the example's tests and the demo test still
 * build on their own when run alone (the build is skipped when it is up to date).
 */
import { join } from 'node:path'
import { buildIfChanged } from '../examples/notifications/server/build.js'

/** The run's file filters (`vitest run a b`): none means every file. */
function filters(): string[] {
  const args = process.argv.slice(2)
  const at = args.indexOf('run')
  return (at === -1 ? args : args.slice(at + 1)).filter((arg) => !arg.startsWith('-'))
}

export default async function setup(): Promise<void> {
  const wanted = filters()
  const needsBuild = wanted.length === 0 || wanted.some((f) => /e2e|notifications|demo/.test(f))
  if (!needsBuild) return
  await buildIfChanged(join(import.meta.dirname, '..', 'examples', 'notifications'), () => {})
}
