// Next.js settings. Only `turbopack` is about this repository: the app runs the rt
// packages from their TypeScript sources, bundled by esbuild into `.rt/` before each build
// (`server/build.ts`); an app that installed @rt/server and @rt/react from npm needs
// none of it.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NextConfig } from 'next'

const here = dirname(fileURLToPath(import.meta.url))

const config: NextConfig = {
  // The repository's `npm run typecheck` checks these files; the build does not again.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  turbopack: {
    root: join(here, '..', '..'),
    resolveAlias: {
      '@rt/server/fetch': './.rt/server-fetch.js',
      '@rt/server': './.rt/server.js',
      '@rt/react': './.rt/react.js',
    },
  },
}
export default config
