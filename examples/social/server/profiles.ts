/**
 * Profiles for events, loaded in batches: every `load` made in the same tick is answered
 * by one `many(ids)` query (the DataLoader pattern). The mapper asks for all the profiles
 * a change needs at once, so enriching a change costs one query however many people it
 * names.
 * @module
 */
import type { Profile } from '../shared/types.js'

export interface ProfileLoader {
  /** The profile of `id`; a placeholder for a user the store does not know. */
  load(id: string): Promise<Profile>
  /** Queries made so far (the tests count them). */
  readonly queries: number
}

export function profileLoader(many: (ids: readonly string[]) => Promise<Profile[]>): ProfileLoader {
  let pending: Map<string, ((profile: Profile) => void)[]> | null = null
  let failed: ((error: unknown) => void)[] = []
  let queries = 0

  async function flush(batch: Map<string, ((profile: Profile) => void)[]>, rejects: ((error: unknown) => void)[]) {
    queries++
    try {
      const found = new Map((await many([...batch.keys()])).map((p) => [p.id, p]))
      for (const [id, resolvers] of batch) {
        const profile = found.get(id) ?? { id, name: id, handle: id, bio: '', admin: false }
        for (const resolve of resolvers) resolve(profile)
      }
    } catch (error) {
      for (const reject of rejects) reject(error)
    }
  }

  return {
    load(id) {
      return new Promise<Profile>((resolve, reject) => {
        if (pending === null) {
          const batch = new Map<string, ((profile: Profile) => void)[]>()
          const rejects: ((error: unknown) => void)[] = []
          pending = batch
          failed = rejects
          queueMicrotask(() => {
            pending = null
            void flush(batch, rejects)
          })
        }
        const resolvers = pending.get(id) ?? []
        resolvers.push(resolve)
        pending.set(id, resolvers)
        failed.push(reject)
      })
    },
    get queries() {
      return queries
    },
  }
}
