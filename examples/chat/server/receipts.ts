/**
 * Honest "delivered" receipts: a message counts as delivered to a member when that
 * member's client acknowledges its event (`hub.onAck`), never when it was written to a
 * socket. Acks carry log ids, so the log's messages are indexed by id here.
 * @module
 */
import type { Hub, Identity, Log } from '@rt/server'
import type { ChatEvents, Message } from '../shared/types.js'
import type { ChatService } from './service.js'

/** Log ids remembered; an ack for an older one moves nothing (a later ack covers it). */
const INDEXED = 50_000

export function trackDeliveries(
  log: Log,
  hub: Hub<ChatEvents, Identity>,
  service: ChatService,
  onError: (error: unknown) => void,
): () => void {
  const messages = new Map<string, { groupId: string; seq: number }>()
  const stopIndexing = log.subscribe((entry) => {
    if (entry.type !== 'message.new') return
    const { groupId, seq } = entry.data as Message
    messages.set(entry.id, { groupId, seq })
    if (messages.size > INDEXED) messages.delete(messages.keys().next().value as string)
  })
  const stopListening = hub.onAck(async (identity, ids, meta) => {
    const userId = identity.userId
    // A resume position (cumulative) says nothing about which groups the client watched.
    if (userId === undefined || meta.cumulative) return
    // Events of one group arrive in order, so the highest acked seq covers the ones before.
    const highest = new Map<string, number>()
    for (const id of ids) {
      const message = messages.get(id)
      if (message === undefined) continue
      highest.set(message.groupId, Math.max(highest.get(message.groupId) ?? 0, message.seq))
    }
    for (const [groupId, seq] of highest) {
      await service.markDelivered(userId, groupId, seq).catch(onError)
    }
  })
  return () => {
    stopIndexing()
    stopListening()
  }
}
