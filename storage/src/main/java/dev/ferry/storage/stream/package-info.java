/**
 * A disk that a guest can use at once while its image streams in from a remote server:
 * {@link dev.ferry.storage.stream.StreamingDisk} (a {@code BlockStore}) keeps a local sparse file and a
 * {@link dev.ferry.storage.stream.BlockBitmap} of the blocks already local, fetches what the guest touches on demand,
 * and copies the rest in the background. The bitmap is written only after the data it describes is durable, so a
 * crash never marks a block local that is not. The source is a {@link dev.ferry.storage.stream.RemoteImage} (NBD in
 * {@link dev.ferry.storage.stream.NbdRemoteImage}). Depends on {@code nbd} and on vmm-core's {@code BlockStore}.
 */
package dev.ferry.storage.stream;
