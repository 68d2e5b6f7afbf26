/**
 * Seed data: a few people, three groups and a short history, so the app is useful on
 * its first start. Runs only on an empty store.
 * @module
 */
import type { ChatService } from './service.js'

export const SEED_USERS = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin'] as const

export async function seed(service: ChatService): Promise<void> {
  if ((await service.users()).length > 0) return
  for (const name of SEED_USERS) await service.login(name)
  const weekend = await service.createGroup('alice', {
    id: 'weekend-hike',
    name: 'Weekend hike',
    description: 'Saturday, 9:00 at the trailhead',
    members: ['bob', 'dave'],
  })
  await service.send('alice', weekend.id, 'Who is in for Saturday? Forecast says sunny.')
  await service.send('bob', weekend.id, 'Count me in. I can drive two people.')
  await service.send('dave', weekend.id, 'In! Bringing snacks.')
  const team = await service.createGroup('bob', {
    id: 'design-team',
    name: 'Design team',
    description: 'Mockups, reviews and the occasional meme',
    members: ['alice', 'erin'],
  })
  await service.setRole('bob', team.id, 'alice', 'admin')
  await service.send('erin', team.id, 'New onboarding mockups are up for review.')
  await service.send('bob', team.id, 'Looks great. @alice can you check the mobile breakpoints?')
  const book = await service.createGroup('carol', {
    id: 'book-club',
    name: 'Book club',
    description: 'This month: The Left Hand of Darkness',
    members: ['alice', 'bob', 'erin'],
  })
  await service.send('carol', book.id, 'We meet Thursday. Chapter 10 and onwards!')
  const coffee = await service.createGroup('bob', {
    id: 'coffee-run',
    name: 'Coffee run',
    description: 'Just the two of us',
    members: ['alice'],
  })
  await service.send('bob', coffee.id, 'Flat white as usual?')
  await service.send('alice', coffee.id, 'Yes please, thank you!')
}
