/**
 * The lint rule that keeps the core runtime-neutral: Node builtins, MongoDB, Redis and
 * Fastify imports fail `npm run lint` inside the core and are allowed in the adapters.
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'

const root = join(import.meta.dirname, '..')
const biome = join(root, 'node_modules', '.bin', 'biome')

interface LintResult {
  readonly code: number
  readonly output: string
}

/** Writes `source` at `dir/<unique>.ts`, lints it with the repository's config, removes it. */
async function lintProbe(dir: string, source: string): Promise<LintResult> {
  const file = join(root, dir, `__boundary-probe-${randomUUID()}.ts`)
  await writeFile(file, source)
  try {
    return await new Promise<LintResult>((resolve) => {
      execFile(biome, ['lint', '--colors=off', file], { cwd: root }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
        resolve({ code, output: stdout + stderr })
      })
    })
  } finally {
    await rm(file, { force: true })
  }
}

const NODE_IMPORT = "import { readFileSync } from 'node:fs'\nexport const read = readFileSync\n"
const MONGO_IMPORT = "import { MongoClient } from 'mongodb'\nexport const client = MongoClient\n"
const REDIS_IMPORT = "import { createClient } from 'redis'\nexport const connect = createClient\n"

describe('core boundary', () => {
  test('a node: import in the core fails lint with noNodejsModules', async () => {
    const result = await lintProbe('packages/server/src/core', NODE_IMPORT)
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('lint/correctness/noNodejsModules')
  })

  test('mongodb and redis imports in the core fail lint with noRestrictedImports', async () => {
    for (const source of [MONGO_IMPORT, REDIS_IMPORT]) {
      const result = await lintProbe('packages/server/src/core', source)
      expect(result.code).not.toBe(0)
      expect(result.output).toContain('lint/style/noRestrictedImports')
    }
  })

  test('the same node: import passes in the node adapter, so the rule is scoped to the core', async () => {
    const result = await lintProbe('packages/server/src/node', NODE_IMPORT)
    expect(result.output).not.toContain('noNodejsModules')
    expect(result.code).toBe(0)
  })
})
