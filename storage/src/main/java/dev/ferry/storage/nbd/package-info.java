/**
 * The NBD protocol (fixed newstyle handshake, simple and structured replies, {@code base:allocation} block status):
 * {@link dev.ferry.storage.nbd.Nbd} holds its numbers,
 * {@link dev.ferry.storage.nbd.NbdWire} encodes and decodes every message (capping each length before allocating),
 * {@link dev.ferry.storage.nbd.NbdServer} serves the image files of a directory read-only, and
 * {@link dev.ferry.storage.nbd.NbdClient} reads one export with several requests in flight. The server finds an image's
 * holes through {@link dev.ferry.storage.nbd.SparseFile} (JNA, {@code lseek}).
 *
 * <pre>
 * client                                   server
 *   |  &lt;-- NBDMAGIC IHAVEOPT flags(16)          |   FIXED_NEWSTYLE | NO_ZEROES
 *   |  --&gt; client flags(32)                     |
 *   |  --&gt; STRUCTURED_REPLY(8)                  |   sent together with the next two
 *   |  --&gt; SET_META_CONTEXT(10) base:allocation |
 *   |  --&gt; IHAVEOPT GO(7) len name infos        |
 *   |  &lt;-- REP_ACK                              |   (an error: simple replies only)
 *   |  &lt;-- REP_META_CONTEXT(id) REP_ACK         |   (none: block status is not asked)
 *   |  &lt;-- REP_INFO EXPORT(size, flags)         |
 *   |  &lt;-- REP_INFO BLOCK_SIZE(min,pref,max)    |
 *   |  &lt;-- REP_ACK                              |   (REP_ERR_UNSUP: the client falls back to EXPORT_NAME)
 *   |  --&gt; request(READ, handle, off, len) ...  |   several in flight
 *   |  &lt;-- simple reply(error, handle) data     |   without structured replies
 *   |  &lt;-- chunk(OFFSET_DATA or _HOLE) ...      |   with them; the last carries REPLY_FLAG_DONE
 *   |  --&gt; request(BLOCK_STATUS, off, len)      |
 *   |  &lt;-- chunk(BLOCK_STATUS id [len flags]..) |
 *   |  --&gt; request(DISC)                        |   the server closes
 * </pre>
 * Depends on nothing in Ferry.
 */
package dev.ferry.storage.nbd;
