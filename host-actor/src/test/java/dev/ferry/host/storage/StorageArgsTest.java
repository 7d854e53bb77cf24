package dev.ferry.host.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class StorageArgsTest {
    @Test
    void takesTheImagesAndNbdPortAndLeavesTheRestToTheHostOptions() {
        StorageArgs a = StorageArgs.parse(new String[] {"--name", "s1", "--images", "/srv/img", "--data", "/tmp/s1",
                "--nbd-port", "10809", "--seeds", "127.0.0.1:2552"});
        assertEquals(Path.of("/srv/img"), a.images());
        assertEquals(10809, a.nbdPort());
        assertEquals("s1", a.host().name());
        assertEquals(List.of("storage"), a.host().roles());
        assertEquals(List.of("127.0.0.1:2552"), a.host().seeds());
    }

    @Test
    void theImagesDefaultToADirectoryInTheDataDirectory() {
        StorageArgs a = StorageArgs.parse(new String[] {"--name", "s1", "--data", "/tmp/s1"});
        assertEquals(Path.of("/tmp/s1/images"), a.images());
        assertEquals(0, a.nbdPort());
    }

    @Test
    void refusesAnOptionWithoutItsValueAndAPortThatIsNotOne() {
        assertThrows(IllegalArgumentException.class,
                () -> StorageArgs.parse(new String[] {"--name", "s1", "--data", "/d", "--images"}));
        assertThrows(IllegalArgumentException.class,
                () -> StorageArgs.parse(new String[] {"--name", "s1", "--data", "/d", "--nbd-port", "70000"}));
    }
}
