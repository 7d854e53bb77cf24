/**
 * Disk images for Ferry's guests: {@code nbd} speaks the Network Block Device protocol (a read-only image server
 * and a client), {@code stream} builds a disk that is usable at once and filled from a remote image in the
 * background, and {@link dev.ferry.storage.StorageNode} puts an image server into the cluster with role
 * {@code storage}. Depends on vmm-core (the {@code BlockStore} a virtio-blk device reads) and, for the node only,
 * on host-actor.
 */
package dev.ferry.storage;
