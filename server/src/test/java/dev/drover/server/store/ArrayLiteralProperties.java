package dev.drover.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drover.server.TestServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Every hot statement binds its rows as array literals written by {@link ArrayLiteral}; a value that
 * came back changed would silently corrupt stored inputs, names or keys. So: whatever text we send
 * (quotes, backslashes, braces, commas, "NULL", empty, non-ASCII, nulls), PostgreSQL parses back the
 * same elements, on a real server.
 */
class ArrayLiteralProperties {
    private static Path dir;
    private static EmbeddedPostgresLauncher pg;
    private static Database db;

    @BeforeContainer
    static void start() throws Exception {
        dir = TestServer.tempDir("array-literal-");
        pg = EmbeddedPostgresLauncher.start(dir, 0);
        db = Database.open(pg.jdbcUrl(), null, null, 2);
    }

    @AfterContainer
    static void stop() throws Exception {
        db.close();
        pg.close();
        TestServer.deleteQuietly(dir);
    }

    @Provide
    Arbitrary<List<String>> texts() {
        Arbitrary<String> nasty = Arbitraries.of("", "NULL", "null", "\"", "\\", "{", "}", ",", " ", "a b", "{\"k\":\"v\\n\"}",
                "ä€😀", "'", "\t\n");
        Arbitrary<String> any = Arbitraries.strings().withChars("ab\"\\{},' NUL\n\tä€").ofMaxLength(12);
        return Arbitraries.oneOf(nasty, any, Arbitraries.just(null)).list().ofMaxSize(20);
    }

    @Property(tries = 200)
    void textRoundTrips(@ForAll("texts") List<String> values) {
        List<String> back = db.inTx(tx -> tx.query("SELECT unnest(?::text[]) AS v",
                ps -> ps.setArray(1, tx.array("text", values.toArray())), rs -> rs.getString(1)));
        assertEquals(printable(values), printable(back));
    }

    private static String printable(List<String> values) {
        return values.stream().map(v -> v == null ? "<null>" : "[" + v.replace("\n", "\\n").replace("\t", "\\t") + "]")
                .toList().toString();
    }

    @Property(tries = 50)
    void numbersUuidsAndBooleansRoundTrip(@ForAll List<Long> longs, @ForAll List<Boolean> flags) {
        Object[] uuids = new Object[longs.size()];
        for (int i = 0; i < uuids.length; i++) uuids[i] = i % 3 == 2 ? null : new UUID(longs.get(i), i);
        List<String> back = db.inTx(tx -> tx.query(
                "SELECT array_to_string(?::bigint[], ',', 'N') || '|' || array_to_string(?::uuid[], ',', 'N') || '|' "
                        + "|| array_to_string(?::boolean[], ',', 'N')",
                ps -> {
                    ps.setArray(1, tx.array("bigint", longs.toArray()));
                    ps.setArray(2, tx.array("uuid", uuids));
                    ps.setArray(3, tx.array("boolean", flags.toArray()));
                }, rs -> rs.getString(1)));
        List<String> u = new ArrayList<>();
        for (Object o : uuids) u.add(o == null ? "N" : o.toString());
        String expected = String.join(",", longs.stream().map(String::valueOf).toList()) + "|" + String.join(",", u) + "|"
                + String.join(",", flags.stream().map(b -> b ? "t" : "f").toList());
        assertEquals(expected, back.get(0), Arrays.toString(uuids));
    }
}
