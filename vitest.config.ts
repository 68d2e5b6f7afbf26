import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['@rt/source'] },
  ssr: { resolve: { conditions: ['@rt/source'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/src/**/*.test.tsx',
      'packages/*/test/**/*.test.ts',
      'e2e/**/*.test.ts',
    ],
    // The Next.js example's build runs before the tests, not beside them.
    globalSetup: ['e2e/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests open real sockets and browsers; two workers fit the two cores.
    maxWorkers: 2,
    typecheck: {
      enabled: true,
      include: ['packages/*/src/**/*.test-d.ts', 'packages/*/src/**/*.test-d.tsx', 'packages/*/test/**/*.test-d.ts'],
    },
  },
})
