/**
 * The NBD protocol (fixed newstyle handshake, simple replies): {@link dev.ferry.storage.nbd.Nbd} holds its numbers,
 * {@link dev.ferry.storage.nbd.NbdWire} encodes and decodes every message (capping each length before allocating),
 * {@link dev.ferry.storage.nbd.NbdServer} serves the image files of a directory read-only, and
 * {@link dev.ferry.storage.nbd.NbdClient} reads one export with several requests in flight.
 *
 * <pre>
 * client                                   server
 *   |  &lt;-- NBDMAGIC IHAVEOPT flags(16)          |   FIXED_NEWSTYLE | NO_ZEROES
 *   |  --&gt; client flags(32)                     |
 *   |  --&gt; IHAVEOPT GO(7) len name infos       |
 *   |  &lt;-- REP_INFO EXPORT(size, flags)         |
 *   |  &lt;-- REP_INFO BLOCK_SIZE(min,pref,max)    |
 *   |  &lt;-- REP_ACK                              |   (REP_ERR_UNSUP: the client falls back to EXPORT_NAME)
 *   |  --&gt; request(READ, handle, off, len) ... |   several in flight
 *   |  &lt;-- simple reply(error, handle) data     |
 *   |  --&gt; request(DISC)                       |   the server closes
 * </pre>
 * Depends on nothing in Ferry.
 */
package dev.ferry.storage.nbd;
