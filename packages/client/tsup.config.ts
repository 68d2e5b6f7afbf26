import { packageConfig } from '../../scripts/tsup-config.js'

// Browsers too: nothing newer than what Node 20 and evergreen browsers share.
export default packageConfig(import.meta.dirname, { target: 'es2022' })
