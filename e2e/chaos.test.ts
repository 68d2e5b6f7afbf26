/**
 * The delivery contract under chaos (see e2e/chaos/run.ts): hubs SIGKILLed and restarted,
 * Redis killed and restarted, MongoDB faults, client sockets cut, transports switched,
 * across the three adapters on a shared log. Every client gets exactly the events it may
 * see, in order, or an explicit reset.
 *
 * In the suite: one short run with a fresh seed. `npm run test:chaos`: runs for
 * RT_CHAOS_MINUTES (default 5), alternating redisLog and redisBus. RT_CHAOS_SEED=<n>
 * (with RT_CHAOS_MODE=log|bus) replays a seed's schedule once, in the same kind of run
 * (short in the suite, long under `npm run test:chaos`); the failure message says how.
 * RT_CHAOS_LOG=<dir> keeps each run's diary in <dir>/<seed>/ (see e2e/chaos/run.ts).
 */
import { expect, test } from 'vitest'
import { type ChaosReport, FAULTS, runChaos, summary } from './chaos/run.js'

const LONG = process.env.RT_CHAOS === 'long'
const MINUTES = Number(process.env.RT_CHAOS_MINUTES ?? 5)
const FIXED = process.env.RT_CHAOS_SEED === undefined ? undefined : Number(process.env.RT_CHAOS_SEED)
const MODE = process.env.RT_CHAOS_MODE === 'bus' ? 'bus' : process.env.RT_CHAOS_MODE === 'log' ? 'log' : undefined

const freshSeed = () => Math.floor(Math.random() * 2 ** 31)
/** RT_CHAOS_TRACE=1 prints each step with its time. */
const trace = process.env.RT_CHAOS_TRACE ? (line: string) => console.info(line) : undefined

function check(report: ChaosReport): void {
  console.info(summary(report))
  // The schedule depends on the seed and on the plan: a short run replays as a short run.
  const command = LONG ? 'npm run test:chaos' : 'npx vitest run e2e/chaos.test.ts'
  const replay = `replay: RT_CHAOS_SEED=${report.seed} RT_CHAOS_MODE=${report.mode} ${command}`
  expect(report.problems, replay).toEqual([])
  expect([report.lost, report.duplicated, report.leaked], replay).toEqual([0, 0, 0])
  // Not vacuous: events flowed and every kind of fault happened.
  expect(report.events, replay).toBeGreaterThan(50)
  for (const kind of FAULTS) expect(report.byKind[kind], `${kind}; ${replay}`).toBeGreaterThan(0)
}

test.skipIf(LONG)('a short chaos run: nothing lost, repeated or leaked', { timeout: 120_000 }, async () => {
  const seed = FIXED ?? freshSeed()
  console.info(`chaos seed=${seed}`)
  check(await runChaos({ seed, mode: MODE ?? 'log', clients: 6, rounds: 5, perRound: 12, trace }))
})

test.runIf(LONG)(`chaos for ${MINUTES} minutes`, { timeout: (MINUTES + 3) * 60_000 }, async () => {
  const until = Date.now() + MINUTES * 60_000
  const totals = { runs: 0, events: 0, faults: 0, resets: 0, lost: 0, duplicated: 0, leaked: 0 }
  let seed = FIXED ?? freshSeed()
  for (let run = 0; run === 0 || (FIXED === undefined && Date.now() < until); run++) {
    const mode = MODE ?? (run % 2 === 0 ? 'log' : 'bus')
    console.info(`chaos seed=${seed} mode=${mode}`)
    const report = await runChaos({ seed, mode, clients: 16, rounds: 14, perRound: 20, trace })
    totals.runs++
    for (const key of ['events', 'faults', 'resets', 'lost', 'duplicated', 'leaked'] as const)
      totals[key] += report[key]
    check(report)
    seed = freshSeed()
  }
  console.info(
    `chaos total over ${totals.runs} runs: events ${totals.events} / faults ${totals.faults} / resets ${totals.resets} / ` +
      `lost=${totals.lost} / duplicated=${totals.duplicated} / leaked=${totals.leaked}`,
  )
})
