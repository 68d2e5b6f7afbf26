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
  // Browsers too: nothing newer than what Node 20 and evergreen browsers share.
  target: 'es2022',
  tsconfig: 'tsconfig.json',
})
