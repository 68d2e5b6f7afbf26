/**
 * The typed hooks: every hook is typed from the app's event map.
 * @module
 */
import { createRealtimeHooks } from '@rt/react'
import type { NotificationEvents } from '../shared/types'

export const { RealtimeProvider, useLiveState } = createRealtimeHooks<NotificationEvents>()
