import { defineConfig } from 'tsup'
import { entriesOf } from '../../scripts/tsup-entries.js'

export default defineConfig({
  entry: entriesOf(import.meta.dirname),
  format: ['esm', 'cjs'],
  // TypeScript 6 deprecates the `baseUrl` tsup passes to its declaration bundler.
  dts: { compilerOptions: { ignoreDeprecations: '6.0' }, resolve: ['@rt/protocol'] },
  // The wire protocol module is private: bundled into this package, never a dependency.
  noExternal: ['@rt/protocol'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
  external: ['fastify', 'mongodb', 'ioredis', 'redis'],
})
