/**
 * Builds the UI with Vite when a source is newer than the last build, so a fresh clone
 * works with `npm run demo` alone and later starts take no build time.
 * @module
 */
import { readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** Newest modification time under `path` (a file or a folder), skipping node_modules. */
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
    if (name === 'node_modules' || name === 'dist') continue
    latest = Math.max(latest, newest(join(path, name)))
  }
  return latest
}

export async function buildUi(rootDir: string, outDirGiven: string): Promise<void> {
  const root = resolve(rootDir)
  const outDir = resolve(outDirGiven)
  const packages = join(root, '..', '..', 'packages')
  const sources = [
    join(root, 'web'),
    join(root, 'shared'),
    join(root, 'index.html'),
    join(root, 'vite.config.ts'),
    join(packages, 'react', 'src'),
    join(packages, 'client', 'src'),
    join(packages, 'protocol', 'src'),
  ]
  const fresh = () => {
    const built = newest(join(outDir, 'index.html'))
    return built > 0 && sources.every((source) => newest(source) < built)
  }
  if (fresh()) return
  // Built aside and swapped in, so two servers starting at once never serve half a build.
  const aside = `${outDir}-${process.pid}`
  const { build } = await import('vite')
  await build({
    root,
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir: aside, emptyOutDir: true },
  })
  if (fresh()) {
    rmSync(aside, { recursive: true, force: true })
    return
  }
  rmSync(outDir, { recursive: true, force: true })
  renameSync(aside, outDir)
}
