/**
 * Reads a package's entry points from its `exports` map (the `@rt/source` condition), so
 * the exports map is the one list of entries and the build follows it.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

type Exports = Record<string, string | Record<string, unknown>>

export function entriesOf(packageDir: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { exports: Exports }
  const entries: Record<string, string> = {}
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue
    const source = target['@rt/source']
    if (typeof source !== 'string') continue
    const name = subpath === '.' ? 'index' : `${subpath.slice(2)}/index`
    entries[name] = source
  }
  return entries
}
