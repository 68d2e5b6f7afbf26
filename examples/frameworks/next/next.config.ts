// Runs @rt/server from its TypeScript sources in this repository (the @rt/source export
// condition); an app that installed the package needs none of this.
import type { NextConfig } from 'next'

const config: NextConfig = {
  transpilePackages: ['@rt/server', '@rt/protocol'],
  webpack: (webpack) => {
    webpack.resolve.conditionNames = ['@rt/source', '...']
    webpack.resolve.extensionAlias = { '.js': ['.ts', '.js'] }
    return webpack
  },
}
export default config
