/**
 * Browser bundles of @rt/client built from its sources with esbuild, for pages served to Chromium.
 */
import { join } from 'node:path'
import { build } from 'esbuild'

/** Bundles one client entry (`index.ts`, `share/index.ts`) as a single ES module. */
export async function bundleClient(entry = 'index.ts'): Promise<string> {
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, '../../packages/client/src', entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  return bundle.outputFiles[0]?.text ?? ''
}
