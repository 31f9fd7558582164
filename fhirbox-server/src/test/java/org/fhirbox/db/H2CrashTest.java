package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A commit acknowledged by the embedded H2 survives the process being killed: a child JVM
 * commits rows from four threads and prints each one once its commit returned; the test kills
 * it with SIGKILL mid-flight, reopens the database and finds every printed row.
 */
class H2CrashTest {
  private static final int THREADS = 4;

  /** The child: commits rows into {@code project} and prints "acked NAME" after each commit. */
  public static void main(String[] args) throws Exception {
    Database db = new Database(url(Path.of(args[0])), "", "", THREADS + 1);
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      new Thread(() -> {
        for (int i = 0; i < 1_000_000; i++) {
          String name = "w" + thread + "-" + i;
          try (Connection c = db.connection();
              PreparedStatement ps = c.prepareStatement("INSERT INTO project (name, created) VALUES (?, ?)")) {
            c.setAutoCommit(false);
            ps.setString(1, name);
            ps.setLong(2, i);
            ps.executeUpdate();
            c.commit();
          } catch (Exception e) {
            return;
          }
          synchronized (System.out) {
            System.out.println("acked " + name);
            System.out.flush();
          }
        }
      }).start();
    }
  }

  private static String url(Path dir) {
    return "jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE";
  }

  @Test
  void commitsAcknowledgedBeforeSigkillAreThereAfterARestart(@TempDir Path dir) throws Exception {
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), H2CrashTest.class.getName(), dir.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    List<String> acked = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
      String line;
      while (acked.size() < 200 && System.nanoTime() < deadline && (line = out.readLine()) != null) {
        if (line.startsWith("acked ")) {
          acked.add(line.substring(6));
        }
      }
      child.destroyForcibly(); // SIGKILL while the threads commit: no shutdown hook, no close of the store
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      child.destroyForcibly();
    }
    assertThat(acked).as("commits acknowledged before the kill").hasSizeGreaterThanOrEqualTo(20);

    Set<String> stored = new HashSet<>();
    try (Database db = new Database(url(dir), "", "", 2);
        Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT name FROM project");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        stored.add(rs.getString(1));
      }
    }
    assertThat(stored).containsAll(acked);
  }
}
