/**
 * The realtime hooks, typed once from the chat's event map.
 * @module
 */
import { createRealtimeHooks } from '@rt/react'
import type { ChatEvents } from '../shared/types.js'

export const { RealtimeProvider, useConnectionState, useEvent, useLiveState, usePresence, useRealtime, useTopics } =
  createRealtimeHooks<ChatEvents>()
