package dev.ferry.vmm.devices.virtio;

import dev.ferry.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;

/**
 * One request's descriptor chain, seen as two byte streams: what the driver gave the device to read, and what it
 * gave the device to write. Reused from request to request: no allocation per request.
 */
public final class DescriptorChain {
    private final GuestMemory memory;
    private final long[] addr;
    private final int[] len;
    private final boolean[] writable;
    private int count;
    private int head;
    private int readIndex;
    private int readOffset;
    private int writeIndex;
    private int writeOffset;

    DescriptorChain(GuestMemory memory, int maxLength) {
        this.memory = memory;
        this.addr = new long[maxLength];
        this.len = new int[maxLength];
        this.writable = new boolean[maxLength];
    }

    void reset(int head) {
        this.head = head;
        count = 0;
        readIndex = 0;
        readOffset = 0;
        writeIndex = 0;
        writeOffset = 0;
    }

    void add(long address, int length, boolean deviceWritable) {
        addr[count] = address;
        len[count] = length;
        writable[count] = deviceWritable;
        count++;
    }

    public int head() {
        return head;
    }

    /** Bytes the driver made readable, in total. */
    public long readableLength() {
        long n = 0;
        for (int i = 0; i < count; i++) {
            n += writable[i] ? 0 : len[i];
        }
        return n;
    }

    /** Bytes the driver made writable, in total. */
    public long writableLength() {
        long n = 0;
        for (int i = 0; i < count; i++) {
            n += writable[i] ? len[i] : 0;
        }
        return n;
    }

    /** Fills {@code dst} from the readable stream; returns false if the stream ran out first. */
    public boolean read(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            while (readIndex < count && (writable[readIndex] || readOffset == len[readIndex])) {
                readIndex++;
                readOffset = 0;
            }
            if (readIndex == count) {
                return false;
            }
            int n = Math.min(dst.remaining(), len[readIndex] - readOffset);
            ByteBuffer part = dst.slice(dst.position(), n);
            memory.read(addr[readIndex] + readOffset, part);
            dst.position(dst.position() + n);
            readOffset += n;
        }
        return true;
    }

    /** Writes the last byte of the writable stream (a block request's status); false if nothing is writable. */
    public boolean writeLastByte(byte value) {
        for (int i = count - 1; i >= 0; i--) {
            if (writable[i] && len[i] > 0) {
                memory.write(addr[i] + len[i] - 1, new byte[] {value}, 0, 1);
                return true;
            }
        }
        return false;
    }

    /** Writes {@code src} into the writable stream; returns false if the stream ran out first. */
    public boolean write(ByteBuffer src) {
        while (src.hasRemaining()) {
            while (writeIndex < count && (!writable[writeIndex] || writeOffset == len[writeIndex])) {
                writeIndex++;
                writeOffset = 0;
            }
            if (writeIndex == count) {
                return false;
            }
            int n = Math.min(src.remaining(), len[writeIndex] - writeOffset);
            memory.write(addr[writeIndex] + writeOffset, src.slice(src.position(), n));
            src.position(src.position() + n);
            writeOffset += n;
        }
        return true;
    }
}
