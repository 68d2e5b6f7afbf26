/**
 * The API reference (`npm run docs`, typedoc) has one module per public import path, named
 * as users import it: typedoc's entry points are exactly the published packages' exports,
 * and each entry names itself with `@module <import path>` above its description.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'

const root = join(import.meta.dirname, '..')
const json = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'))

/** Import path -> source file, for every package under packages/ that is published. */
function publicEntries(): Map<string, string> {
  const entries = new Map<string, string>()
  for (const name of readdirSync(join(root, 'packages'))) {
    const dir = `packages/${name}`
    if (!existsSync(join(root, dir, 'package.json'))) continue
    const pkg = json(`${dir}/package.json`)
    if (pkg.private === true) continue
    for (const [subpath, target] of Object.entries<Record<string, unknown> | string>(pkg.exports ?? {})) {
      if (typeof target === 'string') continue // ./package.json
      const source = target['@rt/source']
      if (typeof source !== 'string') throw new Error(`${dir}: ${subpath} has no @rt/source file`)
      entries.set(subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1)}`, join(dir, source))
    }
  }
  return entries
}

test('typedoc documents exactly the public import paths', () => {
  const entries = publicEntries()
  expect([...entries.keys()]).toEqual(expect.arrayContaining(['@rt/server', '@rt/server/node', '@rt/client']))
  const config = json('typedoc.json')
  expect(config.entryPointStrategy).toBe('resolve')
  expect([...config.entryPoints].sort()).toEqual([...entries.values()].sort())
})

test('each entry is named after its import path and describes itself', () => {
  for (const [importPath, file] of publicEntries()) {
    // A leading directive ('use client' in @rt/react) may come before the header.
    const header =
      /^(?:(['"])use client\1;?\s*)?\/\*\*([\s\S]*?)\*\//.exec(readFileSync(join(root, file), 'utf8'))?.[2] ?? ''
    expect(header, file).toMatch(new RegExp(`^\\s*\\* @module ${importPath.replace(/[/.]/g, '\\$&')}$`, 'm'))
    const description = header
      .replace(/^\s*\* ?/gm, '')
      .replace(/@module.*/, '')
      .trim()
    expect(description.length, `${file} has a module description`).toBeGreaterThan(40)
  }
})
