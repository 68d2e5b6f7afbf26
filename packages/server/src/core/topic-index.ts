/**
 * Sequence numbers by topic, so a filtered read of an in-memory log visits the entries of
 * the reader's topics only.
 * @module
 */

/** One topic's retained sequences, oldest first; those before `start` were evicted. */
interface Seqs {
  list: number[]
  start: number
}

/** The first index in `list` from `lo` whose value is above `seq`. */
function firstAbove(list: readonly number[], lo: number, seq: number): number {
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((list[mid] as number) <= seq) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** A merge of topic lists: candidate sequences in order, all at or below `bound`. */
export interface TopicSlice {
  readonly seqs: number[]
  /** Every sequence of the topics up to here is in `seqs`. */
  readonly bound: number
}

/**
 * Per-topic lists of increasing sequence numbers. Entries must be added in sequence order
 * and evicted oldest first, as a ring buffer does; a topic with nothing left is dropped.
 */
export class TopicIndex {
  private readonly topics = new Map<string, Seqs>()

  add(topic: string, seq: number): void {
    const seqs = this.topics.get(topic)
    if (seqs === undefined) this.topics.set(topic, { list: [seq], start: 0 })
    else seqs.list.push(seq)
  }

  /** Forgets the oldest sequence of `topic`. */
  evict(topic: string): void {
    const seqs = this.topics.get(topic)
    if (seqs === undefined) return
    seqs.start++
    if (seqs.start >= seqs.list.length) this.topics.delete(topic)
    else if (seqs.start >= 1_024 && seqs.start * 2 >= seqs.list.length) {
      // Compact once the evicted head is half the list: amortised O(1) per entry.
      seqs.list = seqs.list.slice(seqs.start)
      seqs.start = 0
    }
  }

  /**
   * Sequences of `topics` in `(after, max]`, at most `limit` per topic, merged in order and
   * cut at the lowest last sequence of a topic that had more, so none is missing below `bound`.
   */
  slice(topics: Iterable<string>, after: number, max: number, limit: number): TopicSlice {
    let bound = max
    const seqs: number[] = []
    for (const topic of topics) {
      const own = this.topics.get(topic)
      if (own === undefined) continue
      const from = firstAbove(own.list, own.start, after)
      let to = firstAbove(own.list, from, max)
      if (to - from > limit) {
        to = from + limit
        bound = Math.min(bound, own.list[to - 1] as number)
      }
      for (let i = from; i < to; i++) seqs.push(own.list[i] as number)
    }
    seqs.sort((a, b) => a - b)
    let end = seqs.length
    while (end > 0 && (seqs[end - 1] as number) > bound) end--
    seqs.length = end
    return { seqs, bound }
  }
}
