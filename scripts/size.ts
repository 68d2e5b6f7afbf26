/**
 * `npm run size`: the browser bundles of `createClient` (with eventsource-parser) from
 * `@rt/client` and from `@rt/client/share`, minified and gzipped, as an app's bundler
 * would ship them. Fails when one passes its limit.
 */
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/** The most the gzipped client may weigh. */
export const CLIENT_LIMIT = 5 * 1024
/** The most the gzipped client with tab sharing (`@rt/client/share`) may weigh. */
export const SHARE_LIMIT = 6 * 1024

export interface BundleSize {
  readonly minified: number
  readonly gzipped: number
  readonly code: string
}

/** Bundles `createClient` from the client's sources for browsers, minified, and measures it. */
export async function measureClient(entry: 'index' | 'share/index' = 'index'): Promise<BundleSize> {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const result = await build({
    stdin: {
      contents: `export { createClient } from './packages/client/src/${entry}.ts'`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.text ?? ''
  return { minified: Buffer.byteLength(code), gzipped: gzipSync(code, { level: 9 }).byteLength, code }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`
  for (const [name, entry, limit] of [
    ['@rt/client', 'index', CLIENT_LIMIT],
    ['@rt/client/share', 'share/index', SHARE_LIMIT],
  ] as const) {
    const { minified, gzipped } = await measureClient(entry)
    console.log(`${name} createClient: ${kib(minified)} minified, ${kib(gzipped)} gzipped (limit ${kib(limit)})`)
    if (gzipped > limit) {
      console.error(`over the limit by ${gzipped - limit} bytes`)
      process.exitCode = 1
    }
  }
}
