package dev.ferry.vmm.devices.virtio.blk;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A disk image file, read and written in place. */
public final class FileBlockStore implements BlockStore {
    private final Path image;
    private final FileChannel file;
    private final long capacity;

    private FileBlockStore(Path image, FileChannel file, long capacity) {
        this.image = image;
        this.file = file;
        this.capacity = capacity;
    }

    /** Opens {@code image} for reading and writing; its size must be a whole number of 512-byte sectors. */
    public static FileBlockStore open(Path image) {
        try {
            FileChannel file = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE);
            long size = Files.size(image);
            if (size % VirtioBlk.SECTOR != 0) {
                file.close();
                throw new IllegalArgumentException("disk image " + image + " is " + size
                        + " bytes, not a whole number of 512-byte sectors");
            }
            return new FileBlockStore(image, file, size);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open disk image " + image, e);
        }
    }

    public Path image() {
        return image;
    }

    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = file.read(dst, pos);
            if (n < 0) {
                throw new EOFException("disk image " + image + " ends at " + pos);
            }
            pos += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        long pos = offset;
        while (src.hasRemaining()) {
            pos += file.write(src, pos);
        }
    }

    @Override
    public void flush() throws IOException {
        file.force(false);
    }

    @Override
    public String id() {
        return "ferry:" + image.getFileName();
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
