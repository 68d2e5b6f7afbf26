import { packageConfig } from '../../scripts/tsup-config.js'

// Every entry is client code for React Server Components: the directive heads each bundle.
export default packageConfig(import.meta.dirname, {
  target: 'es2022',
  external: ['react', '@rt/client', '@rt/react', '@tanstack/react-query'],
  banner: { js: "'use client'" },
})
