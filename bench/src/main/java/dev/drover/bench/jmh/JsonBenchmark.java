package dev.drover.bench.jmh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Jackson on a typical step input and output (the example order workflow's shapes): parse to a tree
 * and write back (what the server does to validate inputs), and bind to / from a record (what the
 * SDK does around a step).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class JsonBenchmark {
  /** A step's input. */
  public record Order(String orderId, String customer, double total, java.util.List<Line> lines) {}

  /** An order line. */
  public record Line(String sku, int quantity, double price) {}

  /** A step's output. */
  public record Receipt(String orderId, String chargeId, String trackingNumber) {}

  static final String INPUT = "{\"orderId\":\"o-1\",\"customer\":\"c-1\",\"total\":42.5,\"lines\":["
      + "{\"sku\":\"sku-1\",\"quantity\":2,\"price\":10.0},{\"sku\":\"sku-2\",\"quantity\":1,\"price\":22.5}]}";
  static final String OUTPUT = "{\"orderId\":\"o-1\",\"chargeId\":\"ch_82114642280a4e49\","
      + "\"trackingNumber\":\"1Z245471F797EA44\"}";

  private final ObjectMapper mapper = new ObjectMapper();
  private final Receipt receipt = new Receipt("o-1", "ch_82114642280a4e49", "1Z245471F797EA44");

  /** Parse the input to a tree and write it back. */
  @Benchmark
  public String treeRoundTrip() throws Exception {
    JsonNode n = mapper.readTree(INPUT);
    return mapper.writeValueAsString(n);
  }

  /** Bind the input to a record (the SDK before a step). */
  @Benchmark
  public Order readInput() throws Exception {
    return mapper.readValue(INPUT, Order.class);
  }

  /** Write the output record (the SDK after a step). */
  @Benchmark
  public String writeOutput() throws Exception {
    return mapper.writeValueAsString(receipt);
  }

  /** Parse an output (a child step reading its parent's output). */
  @Benchmark
  public Receipt readOutput() throws Exception {
    return mapper.readValue(OUTPUT, Receipt.class);
  }
}
