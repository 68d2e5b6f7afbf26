import { idleScale } from './idle-scale.js'

console.log(JSON.stringify(await idleScale(Number(process.argv[2] ?? 5000))))
