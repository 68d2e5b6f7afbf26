import { packageConfig } from '../../scripts/tsup-config.js'

export default packageConfig(import.meta.dirname, {
  target: 'node20',
  external: ['fastify', 'mongodb', 'ioredis', 'redis'],
})
