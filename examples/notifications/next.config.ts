// Next.js settings. Only the webpack part is about this repository: it compiles the rt
// packages from their TypeScript sources (the @rt/source export condition); an app that
// installed @rt/server, @rt/client and @rt/react from npm needs none of it.
import type { NextConfig } from 'next'

const config: NextConfig = {
  // The repository's `npm run typecheck` checks these files; the build does not again.
  typescript: { ignoreBuildErrors: true },
  // Server-Sent Events must not be buffered by a compressor; put compression in a proxy
  // that streams (or leave it off for /events).
  compress: false,
  poweredByHeader: false,
  transpilePackages: ['@rt/server', '@rt/client', '@rt/react', '@rt/protocol'],
  webpack: (webpack) => {
    webpack.resolve.conditionNames = ['@rt/source', '...']
    webpack.resolve.extensionAlias = { '.js': ['.ts', '.tsx', '.js'] }
    return webpack
  },
}
export default config
