/**
 * Seed data: an admin, three users in two roles and a few notifications, so the app is
 * useful on its first start. Runs only on an empty store.
 * @module
 */
import type { User } from '../shared/types.js'
import type { NotificationService } from './service.js'

export const SEED_USERS: readonly User[] = [
  { id: 'ada', name: 'Ada Admin', role: 'admin' },
  { id: 'alice', name: 'Alice Park', role: 'engineering' },
  { id: 'bob', name: 'Bob Reyes', role: 'support' },
  { id: 'carol', name: 'Carol Diaz', role: 'engineering' },
]

export async function seed(service: NotificationService, store: { users: { list(): Promise<User[]> } }): Promise<void> {
  if ((await store.users.list()).length > 0) return
  for (const user of SEED_USERS) await service.addUser(user)
  const ada = SEED_USERS[0] as User
  const ago = (minutes: number) => Date.now() - minutes * 60_000
  await service.send(
    ada,
    {
      title: 'Welcome to the team',
      body: 'Your account is ready. Notifications from admins show up in this bell.',
      level: 'success',
      to: { role: 'engineering' },
    },
    ago(3 * 24 * 60),
  )
  await service.send(
    ada,
    {
      title: 'Welcome to the team',
      body: 'Your account is ready. Notifications from admins show up in this bell.',
      level: 'success',
      to: { role: 'support' },
    },
    ago(3 * 24 * 60 - 1),
  )
  await service.send(
    ada,
    {
      title: 'Maintenance tonight',
      body: 'The staging database restarts at 22:00 UTC; expect a minute of downtime.',
      level: 'warning',
      to: { role: 'engineering' },
    },
    ago(5 * 60),
  )
  await service.send(
    ada,
    {
      title: 'You are on call next week',
      body: 'Your shift starts Monday 09:00. The runbook is pinned in #on-call.',
      level: 'info',
      to: { userId: 'alice' },
    },
    ago(42),
  )
  await service.send(
    ada,
    {
      title: 'New ticket queue',
      body: 'Billing tickets now go to their own queue. Check your filters.',
      level: 'info',
      to: { userId: 'bob' },
    },
    ago(95),
  )
}
