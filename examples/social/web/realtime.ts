/**
 * The realtime hooks, typed once from the feed's event map.
 * @module
 */
import { createRealtimeHooks } from '@rt/react'
import type { SocialEvents } from '../shared/types.js'

export const { RealtimeProvider, useConnectionState, useEvent, useLiveState, useRealtime, useTopics } =
  createRealtimeHooks<SocialEvents>()
