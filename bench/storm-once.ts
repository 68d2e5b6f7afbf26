import { privateStorm } from './private-storm.js'

const [log = 'memory', clients = '5000', events = '100000', timeout = '60000'] = process.argv.slice(2)
const r = await privateStorm(log as never, Number(clients), Number(events), 1, Number(timeout))
console.log(JSON.stringify(r))
