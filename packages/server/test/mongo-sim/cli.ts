/**
 * Runs a simulator in its own process and prints its URI on the first line of stdout, so a test
 * can kill and restart the process under test while the data lives on (or kill the simulator).
 *
 * @example
 * // tsx packages/server/test/mongo-sim/cli.ts --port 27099 [--standalone] [--set-name rs0] [--history-limit 1000]
 * // prints: mongodb://127.0.0.1:27099/?replicaSet=rs0
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { startMongoSim } from './server.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'set-name': { type: 'string', default: 'rs0' },
    standalone: { type: 'boolean', default: false },
    'history-limit': { type: 'string' },
  },
})

const historyLimit = values['history-limit']
const sim = await startMongoSim({
  port: Number(values.port),
  setName: values.standalone ? null : values['set-name'],
  ...(historyLimit === undefined ? {} : { historyLimit: Number(historyLimit) }),
})
process.stdout.write(`${sim.uri}\n`)

const stop = () => {
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
