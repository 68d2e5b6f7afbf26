/**
 * Builds the app when a source is newer than the last build, so a fresh clone works with
 * `npm run demo` alone and later starts take no build time. Two steps: esbuild bundles
 * the rt packages from their TypeScript sources into `.rt/` (a tenth of a second), then
 * `next build` (Turbopack) compiles the app against them. One build at a time: a second
 * server starting meanwhile waits for the first one's build.
 * @module
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** Newest modification time under `path` (a file or a folder), skipping build output. */
function newest(path: string): number {
  let stat: ReturnType<typeof statSync>
  try {
    stat = statSync(path)
  } catch {
    return 0
  }
  if (!stat.isDirectory()) return stat.mtimeMs
  let latest = 0
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name.startsWith('.next') || name === '.rt' || name === 'dist') continue
    latest = Math.max(latest, newest(join(path, name)))
  }
  return latest
}

/** What the build reads: the app, and the packages it compiles from their sources. */
function sources(root: string): string[] {
  const packages = join(root, '..', '..', 'packages')
  return [
    ...['app', 'components', 'lib', 'shared', 'next.config.ts', 'tsconfig.json'].map((name) => join(root, name)),
    ...['server', 'client', 'react', 'protocol'].map((name) => join(packages, name, 'src')),
  ]
}

/**
 * The rt packages' entries the app imports, bundled from their sources with the
 * `@rt/source` condition; `next.config.ts` points Turbopack at them. Turbopack cannot
 * take the sources directly: it neither has custom export conditions nor maps the
 * sources' `./x.js` specifiers to `./x.ts` outside the app.
 */
export async function bundlePackages(root: string): Promise<void> {
  const packages = join(root, '..', '..', 'packages')
  const { build } = await import('esbuild')
  await build({
    entryPoints: {
      server: join(packages, 'server', 'src', 'index.ts'),
      'server-fetch': join(packages, 'server', 'src', 'fetch', 'index.ts'),
      react: join(packages, 'react', 'src', 'index.ts'),
    },
    outdir: join(root, '.rt'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['@rt/source'],
    external: ['react', 'react-dom', 'react/jsx-runtime'],
    jsx: 'automatic',
    logLevel: 'error',
  })
}

export function isBuilt(root: string): boolean {
  const built = newest(join(root, '.next', 'BUILD_ID'))
  return built > 0 && sources(root).every((source) => newest(source) < built)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Takes the build lock, or `false` while another live process holds it. */
function lock(path: string): boolean {
  try {
    mkdirSync(path)
  } catch {
    let holder = 0
    try {
      holder = Number(readFileSync(join(path, 'pid'), 'utf8'))
    } catch {}
    if (holder > 0 && alive(holder)) return false
    // Left by a process that died: take it over.
    rmSync(path, { recursive: true, force: true })
    return lock(path)
  }
  writeFileSync(join(path, 'pid'), String(process.pid))
  return true
}

export async function buildIfChanged(root: string, log: (line: string) => void): Promise<void> {
  const lockPath = join(root, '.next-build.lock')
  for (;;) {
    if (isBuilt(root)) return
    if (lock(lockPath)) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  try {
    if (isBuilt(root)) return
    log('building the Next.js app (next build, once per source change)…')
    await bundlePackages(root)
    const bin = createRequire(join(root, 'package.json')).resolve('next/dist/bin/next')
    const child = spawn(process.execPath, [bin, 'build'], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    const [code] = (await once(child, 'exit')) as [number | null]
    if (code !== 0) throw new Error(`next build failed (exit ${code}):\n${output}`)
  } finally {
    rmSync(lockPath, { recursive: true, force: true })
  }
}

// `npm run build -w @rt/example-notifications`: build now if anything changed (CI runs it once before the tests).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const started = Date.now()
  await buildIfChanged(root, (line) => console.log(line))
  console.log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s (or already fresh)`)
}
