import { defineConfig } from 'tsup'
import { entriesOf } from '../../scripts/tsup-entries.js'

export default defineConfig({
  entry: entriesOf(import.meta.dirname),
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
  external: ['fastify', 'mongodb', 'ioredis', 'redis'],
})
