/**
 * Builds the UI from the rt packages' sources (the `@rt/source` condition), so a fresh
 * clone needs no package build first.
 */
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  resolve: { conditions: ['@rt/source', ...defaultClientConditions] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      onwarn(warning, warn) {
        // The hooks' 'use client' marks matter to server-component bundlers, not to this SPA.
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning)
      },
    },
  },
  server: { proxy: { '/api': 'http://localhost:3001', '/events': 'http://localhost:3001' } },
})
