package dev.ferry.host.journal;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.journal.leveldb.LeveldbJournal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * The LevelDB journal, with room checked before every write: while the data disk has less than {@code min-free}
 * bytes free, a write waits (up to {@code full-wait}) for space to come back, and then fails with an error naming the
 * disk, instead of writing into a full memory-mapped log (which kills the process with SIGBUS).
 */
public class SpaceGuardedJournal extends LeveldbJournal {
    private static final Logger LOG = LoggerFactory.getLogger(SpaceGuardedJournal.class);
    private final DiskSpace space;
    private final long minFree;
    private final Duration fullWait;

    public SpaceGuardedJournal(Config cfg) {
        super(cfg);
        this.space = new DiskSpace(Path.of(cfg.getString("dir")));
        this.minFree = cfg.hasPath("min-free") ? cfg.getBytes("min-free") : 4L << 20;
        this.fullWait = cfg.hasPath("full-wait") ? cfg.getDuration("full-wait") : Duration.ofSeconds(60);
    }

    @Override
    public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
        try {
            long t0 = System.nanoTime();
            if (space.awaitFree(minFree, fullWait, () -> LOG.warn("journal writes wait: {}", space.shortOf(minFree)))) {
                LOG.info("journal writes resume: {} free after {} ms", DiskSpace.mib(space.free()),
                        (System.nanoTime() - t0) / 1_000_000);
            }
        } catch (IOException e) {
            LOG.error("journal write failed: {}", e.getMessage());
            return scala.concurrent.Future$.MODULE$.failed(e);
        }
        return super.asyncWriteMessages(messages);
    }
}
