/**
 * Disk images for Ferry's guests: {@code nbd} speaks the Network Block Device protocol (a read-only image server
 * and a client), {@code stream} builds a disk that is usable at once and filled from a remote image in the
 * background. Depends on vmm-core only (the {@code BlockStore} a virtio-blk device reads); the storage node that
 * puts an image server into the cluster lives with the other nodes, in host-actor.
 */
package dev.ferry.storage;
