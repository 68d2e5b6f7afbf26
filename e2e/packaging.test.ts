/**
 * What a user installs: each published package is built with tsup, checked with
 * `publint --strict` and `attw --pack`, loaded from its build as ESM and as CJS in a plain
 * `node` (no `@rt/source` condition), and its core build is checked for Node imports.
 *
 * The tarball `npm pack` would publish is checked too: a README, a LICENSE and every built
 * file the exports map names, and no test file. Every workspace under `packages/` that is
 * not private must have an entry in `PACKAGES` (a test says so when one is missing).
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { beforeAll, describe, expect, test } from 'vitest'

interface PackageCheck {
  /** The package's directory, from the repository root. */
  readonly dir: string
  /** Names each subpath must export, in the ESM and the CJS build alike. */
  readonly exports: Readonly<Record<string, readonly string[]>>
  /** Built files that must load no Node builtin, following their relative imports. */
  readonly neutral: readonly string[]
  /**
   * An ES module run by a plain `node` from the repository root against the build, with
   * `load(specifier)` (once `import`, once `require`); it throws when the build misbehaves.
   */
  readonly smoke?: string
}

const PACKAGES: readonly PackageCheck[] = [
  {
    dir: 'packages/server',
    exports: {
      '.': ['createHub', 'memoryLog', 'RtError', 'isRtError', 'healthReport', 'ControlEvent'],
      './node': ['toNodeHandler', 'healthHandler'],
      './fetch': ['toFetchHandler', 'healthHandler'],
      './fastify': ['fastifyRealtime'],
      './mongo': ['mongoChangeStream', 'mongoLog', 'mongoTokenStore', 'memoryTokenStore'],
      './redis': ['redisBus', 'redisLog', 'redisPresence', 'redisTokenStore'],
    },
    neutral: ['dist/index.js', 'dist/index.cjs'],
    // A hub from the core entry served through the fetch entry: the shared code of two
    // entries must agree once bundled.
    smoke: `
      const { createHub } = await load('@rt/server')
      const { toFetchHandler } = await load('@rt/server/fetch')
      const hub = createHub()
      const res = await toFetchHandler(hub)(new Request('http://localhost/events?topics=a'))
      const id = await hub.publish({ type: 'tick', topic: 'a', data: { n: 1 } })
      const reader = res.body.getReader()
      const decoder = new TextDecoder()
      let text = ''
      while (!text.includes('event: tick')) {
        const { value, done } = await reader.read()
        if (done) break
        text += decoder.decode(value, { stream: true })
      }
      await reader.cancel()
      await hub.close()
      const expected = 'id: ' + id + '\\nevent: tick\\ndata: {"topic":"a"'
      if (res.status !== 200 || !text.includes('event: rt.connected') || !text.includes(expected)) {
        throw new Error('unexpected stream: ' + JSON.stringify(text))
      }
    `,
  },
  {
    dir: 'packages/client',
    exports: {
      '.': ['createClient', 'RtError', 'isRtError'],
      './share': ['createClient', 'RtError', 'isRtError'],
    },
    // Browsers, workers and Node alike.
    neutral: ['dist/index.js', 'dist/index.cjs', 'dist/share/index.js', 'dist/share/index.cjs'],
  },
  {
    dir: 'packages/react',
    exports: {
      '.': [
        'RealtimeProvider',
        'createRealtimeHooks',
        'createRealtimeStore',
        'useConnectionState',
        'useEvent',
        'useEventList',
        'useLatestEvent',
        'useLiveState',
        'usePresence',
        'useRealtime',
        'useTopics',
      ],
      './query': ['useQueryEvents', 'createQueryHooks'],
    },
    neutral: ['dist/index.js', 'dist/index.cjs', 'dist/query/index.js', 'dist/query/index.cjs'],
    // Server rendering from the build: React is the app's copy, the client is not started.
    smoke: `
      const { createElement } = await load('react')
      const { renderToString } = await load('react-dom/server')
      const { RealtimeProvider, useConnectionState, useLiveState } = await load('@rt/react')
      function Page() {
        const live = useLiveState({
          key: 'k', topics: ['t'], types: ['e'], initial: { data: 'hello', cursor: 'c-1' },
          snapshot: () => { throw new Error('no snapshot on the server') }, apply: (s) => s,
        })
        return createElement('p', null, useConnectionState() + ':' + live.status + ':' + live.data)
      }
      const html = renderToString(
        createElement(RealtimeProvider, { options: { url: 'http://127.0.0.1:9/events', topics: ['t'] } }, createElement(Page)),
      )
      if (html !== '<p>idle:live:hello</p>') throw new Error('unexpected html: ' + html)
    `,
  },
]

/**
 * `attw` resolution modes that are not checked: `node10` cannot see subpath exports at all
 * (it predates the `exports` field); every supported runtime and bundler reads `exports`.
 */
const ATTW_PROFILE = 'node16'
const ATTW_IGNORED_RESOLUTIONS = new Set(['node10'])

const root = join(import.meta.dirname, '..')
const bin = (name: string) => join(root, 'node_modules', '.bin', name)

/** Workspaces under `packages/` that npm would publish (not `private`). */
function publishedPackages(): string[] {
  return readdirSync(join(root, 'packages'))
    .map((name) => `packages/${name}`)
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .filter((dir) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).private !== true)
}

/** Files in the tarball, never tests or type tests, wherever they sit. */
const TEST_FILE = /(^|\/)(test|tests|__tests__)\/|\.test(-d)?\.tsx?$/

test('every published package is checked here', () => {
  const published = publishedPackages()
  expect(published).toEqual(expect.arrayContaining(['packages/server', 'packages/client']))
  expect(PACKAGES.map((pkg) => pkg.dir).sort()).toEqual(published.sort())
})

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command without the `@rt/source` condition a parent process may have set. */
function run(command: string, args: readonly string[], cwd = root): Promise<Run> {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  return new Promise((done) => {
    execFile(command, args, { cwd, env, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
      done({ code, stdout, stderr })
    })
  })
}

type ExportsMap = Record<string, string | Record<string, string | Record<string, string>>>

function packageJson(dir: string): { name: string; exports: ExportsMap } {
  return JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))
}

/** Every file path the exports map points at outside the source condition. */
function exportedFiles(map: ExportsMap): string[] {
  const files: string[] = []
  const walk = (value: unknown, condition: string) => {
    if (condition === '@rt/source') return
    if (typeof value === 'string') files.push(value)
    else if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value)) walk(inner, key)
    }
  }
  for (const target of Object.values(map)) walk(target, '')
  return files
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"']+)["']/g
const builtins = new Set(builtinModules)

/** Node builtins loaded by `entry` or by any file it imports relatively. */
function nodeImportsOf(entry: string): string[] {
  const found: string[] = []
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const code = readFileSync(file, 'utf8')
    for (const [, specifier] of code.matchAll(SPECIFIER)) {
      if (specifier === undefined) continue
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier))
      else if (specifier.startsWith('node:') || builtins.has(specifier.split('/')[0] as string)) {
        found.push(`${specifier} (in ${file.slice(root.length + 1)})`)
      }
    }
  }
  visit(entry)
  return found
}

/** Loads every subpath in a fresh `node` through `import` and `require`; reports names and files. */
const LOADER = `
import { createRequire } from 'node:module'
const require = createRequire(process.cwd() + '/')
const [name, subpaths] = JSON.parse(process.argv[1])
const out = {}
for (const subpath of subpaths) {
  const spec = subpath === '.' ? name : name + subpath.slice(1)
  const esm = await import(spec)
  const cjs = require(spec)
  const names = (mod) => Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule' && mod[k] !== undefined)
  out[subpath] = { esm: names(esm), cjs: names(cjs), esmFile: import.meta.resolve(spec), cjsFile: require.resolve(spec) }
}
console.log(JSON.stringify(out))
`

interface Loaded {
  readonly esm: string[]
  readonly cjs: string[]
  readonly esmFile: string
  readonly cjsFile: string
}

describe.each(PACKAGES)('$dir', (pkg) => {
  const dir = join(root, pkg.dir)
  const { name, exports } = packageJson(pkg.dir)

  beforeAll(async () => {
    const build = await run(bin('tsup'), [], dir)
    if (build.code !== 0) throw new Error(`tsup failed in ${pkg.dir}:\n${build.stdout}\n${build.stderr}`)
  }, 120_000)

  test('the build has every file the exports map names, and this test knows every entry', () => {
    const subpaths = Object.keys(exports).filter((subpath) => subpath !== './package.json')
    expect(Object.keys(pkg.exports).sort()).toEqual(subpaths.sort())
    const files = exportedFiles(exports)
    expect(files.some((file) => file.endsWith('.d.cts'))).toBe(true)
    expect(files.filter((file) => !existsSync(join(dir, file)))).toEqual([])
  })

  test('the private wire-protocol module is bundled in, never referenced', () => {
    const built = readdirSync(join(dir, 'dist'), { recursive: true, encoding: 'utf8' }).filter((file) =>
      /\.(c?js|d\.c?ts)$/.test(file),
    )
    expect(built.length).toBeGreaterThan(0)
    expect(built.filter((file) => readFileSync(join(dir, 'dist', file), 'utf8').includes('@rt/protocol'))).toEqual([])
  })

  test('npm pack ships a README, a LICENSE and the build, and no test file', async () => {
    const result = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], dir)
    expect(result.code, result.stderr).toBe(0)
    const [tarball] = JSON.parse(result.stdout) as { files: { path: string }[] }[]
    const files = (tarball?.files ?? []).map((file) => file.path)
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']))
    expect(files).toEqual(expect.arrayContaining(exportedFiles(exports).map((file) => file.replace(/^\.\//, ''))))
    expect(files.filter((file) => TEST_FILE.test(file))).toEqual([])
    expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'))
    const readme = readFileSync(join(dir, 'README.md'), 'utf8')
    expect(readme).toContain(`npm install ${name}`)
    expect(readme).toMatch(/```tsx?\n[\s\S]*?from '@rt\//)
  })

  test('publint --strict reports nothing', async () => {
    const result = await publint({ pkgDir: dir, strict: true, pack: 'npm' })
    const messages = result.messages.map((m) => `${m.type}: ${formatMessage(m, result.pkg, { color: false })}`)
    expect(messages).toEqual([])
  })

  test(`attw --pack --profile ${ATTW_PROFILE}: node16 (ESM and CJS) and bundler resolve correct types`, async () => {
    const result = await run(bin('attw'), ['--pack', dir, '--profile', ATTW_PROFILE, '--format', 'json'])
    const report = JSON.parse(result.stdout) as {
      analysis: { problems: { kind: string; entrypoint?: string; resolutionKind?: string }[] }
    }
    const problems = report.analysis.problems.filter(
      (p) => p.resolutionKind === undefined || !ATTW_IGNORED_RESOLUTIONS.has(p.resolutionKind),
    )
    expect(problems).toEqual([])
    expect(result.code).toBe(0)
  })

  test('a plain node process loads every entry from the build as ESM and as CJS', async () => {
    const subpaths = Object.keys(pkg.exports)
    const result = await run(process.execPath, ['--input-type=module', '-e', LOADER, JSON.stringify([name, subpaths])])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const loaded = JSON.parse(result.stdout) as Record<string, Loaded>
    for (const [subpath, names] of Object.entries(pkg.exports)) {
      const entry = loaded[subpath] as Loaded
      expect(entry.esmFile, subpath).toMatch(/\/dist\/.*\.js$/)
      expect(entry.cjsFile, subpath).toMatch(/\/dist\/.*\.cjs$/)
      expect(entry.esm, `${subpath} (ESM)`).toEqual(expect.arrayContaining([...names]))
      expect(entry.cjs, `${subpath} (CJS)`).toEqual(expect.arrayContaining([...names]))
    }
  })

  const smoke = pkg.smoke
  // Defined only where a smoke script exists, so no package reports a skipped test.
  if (smoke !== undefined) {
    test('the build works when loaded as ESM and as CJS', async () => {
      const script = `
      import { createRequire } from 'node:module'
      const require = createRequire(process.cwd() + '/')
      for (const load of [(spec) => import(spec), async (spec) => require(spec)]) {
        ${smoke}
      }
      console.log('ok')
    `
      const result = await run(process.execPath, ['--input-type=module', '-e', script])
      expect(result.stderr).toBe('')
      expect(result.stdout.trim()).toBe('ok')
    })
  }

  test('the core build loads no Node builtin', () => {
    for (const file of pkg.neutral) {
      expect(existsSync(join(dir, file)), file).toBe(true)
      expect(nodeImportsOf(join(dir, file)), file).toEqual([])
    }
  })
})
