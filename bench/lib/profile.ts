/** CPU profiles of one window of a benchmark process, through the inspector (no restart). */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import type { Message } from './ipc.js'

let session: Session | undefined

/** IPC handlers: `profileStart`, then `profileStop` with `file`, where the profile is written. */
export const profileHandlers = {
  profileStart: async (): Promise<Message> => {
    if (session !== undefined) return { profiling: true }
    session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 200 })
    await session.post('Profiler.start')
    return { profiling: true }
  },
  profileStop: async (m: Message): Promise<Message> => {
    const current = session
    session = undefined
    if (current === undefined) return { profiled: false }
    const { profile } = await current.post('Profiler.stop')
    current.disconnect()
    writeFileSync(m.file as string, JSON.stringify(profile))
    return { profiled: true }
  },
}
