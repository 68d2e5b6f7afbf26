/**
 * Seed data: six people (Maya is the admin), who follows whom, and a morning of posts with
 * likes, comments and a poll, so the feed is useful on its first start. Runs only on an
 * empty store.
 * @module
 */
import type { Post, Profile } from '../shared/types.js'
import { newId, type Repositories } from './repos/types.js'

export const SEED_USERS: readonly Profile[] = [
  {
    id: 'ana',
    name: 'Ana Souza',
    handle: 'anasouza',
    bio: 'Product designer in Lisbon. Type, coffee, tiny UI details.',
    admin: false,
  },
  {
    id: 'ben',
    name: 'Ben Okafor',
    handle: 'benokafor',
    bio: 'Backend engineer. Runs on cold brew and change streams.',
    admin: false,
  },
  {
    id: 'chloe',
    name: 'Chloé Martin',
    handle: 'chloem',
    bio: 'Data journalist. Charts over adjectives.',
    admin: false,
  },
  {
    id: 'dev',
    name: 'Dev Patel',
    handle: 'devpatel',
    bio: 'Trail runner, weekend baker, sourdough evangelist.',
    admin: false,
  },
  { id: 'sam', name: 'Sam Rivera', handle: 'samr', bio: 'Teaching kids to code on Saturdays.', admin: false },
  { id: 'maya', name: 'Maya Chen', handle: 'mayachen', bio: 'Community lead. Be kind, ship often.', admin: true },
]

/** follower -> followees. Ana follows Ben; Chloé does not. */
const FOLLOWS: Record<string, readonly string[]> = {
  ana: ['ben', 'maya', 'dev'],
  ben: ['ana', 'maya'],
  chloe: ['dev', 'maya'],
  dev: ['ben', 'chloe'],
  sam: ['ben', 'dev', 'maya'],
  maya: ['ana', 'ben', 'chloe', 'dev', 'sam'],
}

/** The seeded poll: its id is fixed so tests and docs can name it. */
export const POLL_POST = 'seed-poll'

export async function seed(repos: Repositories, now: number = Date.now()): Promise<void> {
  if ((await repos.users.list()).length > 0) return
  for (const user of SEED_USERS) await repos.users.upsert(user)
  for (const [follower, followees] of Object.entries(FOLLOWS)) {
    for (const followee of followees) await repos.follows.add(follower, followee, now - 86_400_000)
  }
  const minutes = (m: number) => now - m * 60_000
  const post = async (authorId: string, ago: number, text: string, extra: Partial<Post> = {}) => {
    const p: Post = { id: newId(minutes(ago)), authorId, text, createdAt: minutes(ago), ...extra }
    await repos.posts.insert(p)
    return p
  }
  const welcome = await post(
    'maya',
    180,
    'Welcome to the new feed! Posts, likes, comments and polls all arrive live. Say hi to someone you follow.',
  )
  const bread = await post('dev', 150, 'Day 3 of the sourdough starter: it finally doubled overnight. Naming it Gary.')
  const design = await post(
    'ana',
    120,
    'Shipped the new onboarding flow today. Three screens instead of seven, and the drop-off chart already looks happier.',
  )
  await post(
    'chloe',
    95,
    'Working on a piece about city bike lanes. If you commute by bike, what is the worst junction in town?',
  )
  await post('ben', 60, 'Moved the notification service to change streams. No more polling the database every second.')
  await repos.posts.insert({
    id: POLL_POST,
    authorId: 'ben',
    text: 'Settling this once and for all for the new style guide.',
    createdAt: minutes(30),
    poll: { question: 'Tabs or spaces?', options: ['Tabs', 'Spaces', 'Whatever the formatter says'] },
  })
  await repos.votes.set({ postId: POLL_POST, userId: 'maya', option: 0 })
  await repos.votes.set({ postId: POLL_POST, userId: 'dev', option: 0 })
  await repos.votes.set({ postId: POLL_POST, userId: 'sam', option: 1 })
  for (const [postId, users] of [
    [welcome.id, ['ana', 'ben', 'dev', 'sam']],
    [bread.id, ['chloe', 'maya', 'ana']],
    [design.id, ['maya', 'ben']],
  ] as const) {
    for (const userId of users) await repos.likes.add(postId, userId, minutes(20))
  }
  const comment = async (postId: string, authorId: string, ago: number, text: string) =>
    repos.comments.insert({ id: newId(minutes(ago)), postId, authorId, text, createdAt: minutes(ago) })
  await comment(bread.id, 'chloe', 140, 'Gary is a great name for a starter.')
  await comment(design.id, 'maya', 110, 'Huge improvement. Can we write this up for the blog?')
  await comment(design.id, 'ben', 100, 'The new empty states are lovely.')
}
