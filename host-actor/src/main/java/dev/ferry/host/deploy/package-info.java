/**
 * Streaming deployment: a guest booted at once with its disk streamed from an image on a storage node, the image
 * copied to the host's disk in the background, and virtualization switched OFF once every block is local. Used by the
 * host agent; depends on vmm-core and the storage library only.
 */
package dev.ferry.host.deploy;
