package dev.ferry.cli;

import dev.ferry.vmm.memory.MemorySize;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads {@code --memory 256M} style sizes. */
final class MemorySizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        try {
            return MemorySize.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
