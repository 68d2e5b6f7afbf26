/** rt: the hub on an in-memory log. */
import { memoryLog } from '@rt/server'
import { runRtHub } from './rt-hub.js'

await runRtHub(memoryLog({ capacity: 200_000 }))
