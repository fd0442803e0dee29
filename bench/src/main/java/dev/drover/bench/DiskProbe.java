package dev.drover.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.HdrHistogram.Histogram;

/**
 * What a durable commit costs the disk alone: an 8-KiB write followed by {@code fdatasync}
 * ({@code FileChannel.force(false)}), as PostgreSQL flushes its WAL at every commit, on a fixed
 * schedule. Every accepted trigger waits for one such flush, so the tail of this figure is a floor
 * under the idle latency's tail that no engine change can lower (on the benchmark VM, 0.3–0.7% of
 * these took over 4 ms with nothing else running: bench/README.md, session 19). {@code latency}
 * reports it beside its own percentiles ({@code disk_sync_ms}), measured after the window so that it
 * does not compete with the measured commits; {@code disk_probe_path} names the directory probed.
 */
final class DiskProbe {
  private static final int BLOCK = 8192;
  /** Offsets cycle through this much of the file: written once, preallocated like a WAL segment. */
  private static final long SPAN = 16L << 20;

  private DiskProbe() {}

  /** {@code samples} timed write+fdatasync pairs at {@code ratePerS} in a scratch file under {@code dir}. */
  static ObjectNode measure(Path dir, int samples, double ratePerS) throws IOException {
    Path file = Files.createTempFile(dir, "drover-disk-probe-", ".dat");
    Histogram h = Harness.empty();
    int over4ms = 0;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ByteBuffer block = ByteBuffer.allocateDirect(BLOCK);
      // Preallocate, as PostgreSQL does for WAL segments, so that no flush has to allocate blocks.
      for (long off = 0; off < SPAN; off += BLOCK) {
        block.clear();
        ch.write(block, off);
      }
      ch.force(true);
      long interval = Math.max(1, Math.round(1e9 / ratePerS));
      long start = System.nanoTime();
      for (int i = 0; i < samples; i++) {
        Harness.sleepUntil(start + i * interval);
        block.clear();
        long t0 = System.nanoTime();
        ch.write(block, (i * (long) BLOCK) % SPAN);
        ch.force(false);
        long took = System.nanoTime() - t0;
        h.recordValue(took);
        if (took > 4_000_000L) over4ms++;
      }
    } finally {
      Files.deleteIfExists(file);
    }
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("count", samples);
    o.put("rate_per_s", ratePerS);
    o.put("p50", Reports.round(Reports.ms(h.getValueAtPercentile(50)), 3));
    o.put("p99", Reports.round(Reports.ms(h.getValueAtPercentile(99)), 3));
    o.put("p999", Reports.round(Reports.ms(h.getValueAtPercentile(99.9)), 3));
    o.put("max", Reports.round(Reports.ms(h.getMaxValue()), 3));
    o.put("over_4ms_pct", Reports.round(100.0 * over4ms / samples, 2));
    return o;
  }
}
