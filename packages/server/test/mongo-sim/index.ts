/**
 * A MongoDB wire-protocol simulator of a one-member replica set, for testing MongoDB code with
 * the real `mongodb` driver where no `mongod` can run. Test support, never published.
 *
 * Behaviour worth knowing when writing tests against it:
 * - Change streams: tokens are opaque `{ _data: hex }` that sort in log order; a token from
 *   another simulator instance (e.g. a restarted CLI process) answers 286. A `getMore` without
 *   `maxTimeMS` waits 1 s, as mongod does: pass `maxAwaitTimeMS` to keep tests quick.
 *   Pre- and post-images exist only where `changeStreamPreAndPostImages` is enabled (`create`
 *   option or `collMod`): else `whenAvailable` gives null and `required` fails with 47. Resume
 *   tokens are checked against the stream (280), events over 16 MB fail with 10334 unless the
 *   pipeline ends with `$changeStreamSplitLargeEvent`, and an error fault on a change stream
 *   `getMore` gets the labels a 4.4+ server adds. `showExpandedEvents` streams see `create`,
 *   `createIndexes`, `dropIndexes`, `modify` and `collectionUUID`; `renameCollection` logs
 *   `rename` and `invalidate`.
 * - `truncateHistory()` makes every earlier token lost: resumes and the next `getMore` of open
 *   streams answer 286. `drop` logs `drop` then `invalidate`; `invalidate()` logs only the latter.
 * - Faults: `drop` closes the socket without running the command; `delayMs` runs it and replies
 *   late. A retried write (same `lsid` + `txnNumber`) gets the first execution's reply, so a write
 *   whose reply was lost is applied once, as with a real server.
 * - Queries read ordered indexes as a server does: equality or `$in` on a key prefix, then a
 *   range on the next field (one bound on a multikey field), a rooted `$or` clause by clause;
 *   a find sorted in index order stops at its limit. Other queries test every document.
 *   Dotted, partial, text and hashed indexes are kept for `listIndexes` but never read. Its
 *   speed is a simulator's (an in-memory matcher, no query cache): timings against it say
 *   what a client costs and how many round trips it makes, not what a server would answer in.
 * - TTL indexes expire documents every `ttlMonitorMs` (60 s, as mongod); cursors idle for
 *   `cursorTimeoutMs` are killed (43 on the next `getMore`). Transactions: their changes reach
 *   change streams at commit, with one cluster time, `lsid` and `txnNumber`; an abort undoes the
 *   writes and logs nothing. They are not isolated (other sessions see uncommitted writes). No
 *   auth, compression or `client.bulkWrite`; exhaust only for the awaitable `hello` of
 *   `streamingHello: true` (`hello` then carries a `topologyVersion`).
 *
 * @module
 */
export type { MongoSimFault } from './faults.js'
export { type MongoSim, type MongoSimCommand, type MongoSimOptions, startMongoSim } from './server.js'
