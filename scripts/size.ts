/**
 * `npm run size`: the browser bundle of `createClient` (with eventsource-parser), minified
 * and gzipped, as an app's bundler would ship it. Fails when it passes the limit.
 */
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/** The most the gzipped client may weigh. */
export const CLIENT_LIMIT = 5 * 1024

export interface BundleSize {
  readonly minified: number
  readonly gzipped: number
  readonly code: string
}

/** Bundles `createClient` from the client's sources for browsers, minified, and measures it. */
export async function measureClient(): Promise<BundleSize> {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const result = await build({
    stdin: {
      contents: "export { createClient } from './packages/client/src/index.ts'",
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
  const { minified, gzipped } = await measureClient()
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`
  console.log(
    `@rt/client createClient: ${kib(minified)} minified, ${kib(gzipped)} gzipped (limit ${kib(CLIENT_LIMIT)})`,
  )
  if (gzipped > CLIENT_LIMIT) {
    console.error(`over the limit by ${gzipped - CLIENT_LIMIT} bytes`)
    process.exitCode = 1
  }
}
