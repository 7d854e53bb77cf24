package dev.ferry.storage.nbd;

/**
 * Told of the parts of a read the server answered as holes, instead of having them filled with zeros: {@code at} is
 * the index from the read's first byte. A reader that knows what to do with zeros (leave them out of a sparse file,
 * say) saves writing and scanning them. Called on the client's reply thread.
 */
@FunctionalInterface
public interface HoleSink {
    void hole(int at, int length);
}
