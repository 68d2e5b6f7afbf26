/**
 * `npm run size`: the browser bundles of `createClient` (with its SSE reader) from
 * `@rt/client` and `@rt/client/share`, and of `@rt/react` (every hook, with the client,
 * without React), minified and gzipped, as an app's bundler would ship them. Fails when one
 * passes its limit.
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

/** The most the gzipped `@rt/react` (hooks and client, without React) may weigh. */
export const REACT_LIMIT = 8 * 1024

/** Bundles `createClient` from the client's sources for browsers, minified, and measures it. */
export function measureClient(entry: 'index' | 'share/index' = 'index'): Promise<BundleSize> {
  return measure(`export { createClient } from './packages/client/src/${entry}.ts'`)
}

/** Bundles every export of `@rt/react` with `@rt/client`, React left out as the app's own. */
export function measureReact(): Promise<BundleSize> {
  return measure("export * from './packages/react/src/index.ts'", ['react', 'react-dom', 'react/jsx-runtime'])
}

/** The most the gzipped hooks alone (without the client) may weigh. */
export const REACT_HOOKS_LIMIT = 3.5 * 1024

/** `@rt/react`'s own share: its hooks with `@rt/client` left out too. */
export function measureReactHooks(): Promise<BundleSize> {
  return measure("export * from './packages/react/src/index.ts'", [
    'react',
    'react-dom',
    'react/jsx-runtime',
    '@rt/client',
  ])
}

async function measure(contents: string, external: string[] = []): Promise<BundleSize> {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts' },
    conditions: ['@rt/source'],
    external,
    jsx: 'automatic',
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
  const bundles = [
    { name: '@rt/client createClient', size: await measureClient(), limit: CLIENT_LIMIT },
    { name: '@rt/client/share createClient', size: await measureClient('share/index'), limit: SHARE_LIMIT },
    { name: '@rt/react (with @rt/client, without React)', size: await measureReact(), limit: REACT_LIMIT },
    { name: '@rt/react hooks alone', size: await measureReactHooks(), limit: REACT_HOOKS_LIMIT },
  ]
  for (const { name, size, limit } of bundles) {
    console.log(`${name}: ${kib(size.minified)} minified, ${kib(size.gzipped)} gzipped (limit ${kib(limit)})`)
    if (size.gzipped > limit) {
      console.error(`${name} is over the limit by ${size.gzipped - limit} bytes`)
      process.exitCode = 1
    }
  }
}
