/**
 * The build every published package shares: ESM + CJS + declarations for the entries of
 * its `exports` map, with the private wire-protocol module bundled in.
 */
import { defineConfig, type Options } from 'tsup'
import { entriesOf } from './tsup-entries.js'

export function packageConfig(packageDir: string, options: Pick<Options, 'target' | 'external' | 'banner'>) {
  return defineConfig({
    entry: entriesOf(packageDir),
    format: ['esm', 'cjs'],
    // TypeScript 6 deprecates the `baseUrl` tsup passes to its declaration bundler.
    dts: { compilerOptions: { ignoreDeprecations: '6.0' }, resolve: ['@rt/protocol'] },
    // The wire protocol module is private: bundled into each package, never a dependency.
    noExternal: ['@rt/protocol'],
    sourcemap: true,
    clean: true,
    tsconfig: 'tsconfig.json',
    ...options,
  })
}
