package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A commit acknowledged by the embedded H2 survives the process being killed: a child JVM
 * commits rows from four threads and prints each one once its commit returned; the test kills
 * it with SIGKILL mid-flight, reopens the database and finds every printed row, and every
 * transaction whole: each writes one name into two tables, and both hold the same names. The second case
 * kills the child once MVStore writes new chunks into reused space (a retention time of 100 ms
 * instead of 45 s gets there within a second), where H2's own quick recovery loses the last
 * commits. The third sets {@code WRITE_DELAY=0} in the URL, which the journal overrides.
 */
@SlowTest
class H2CrashTest {
  private static final int THREADS = 4;

  /** The child: commits rows into {@code project} and prints "acked NAME" after each commit. */
  public static void main(String[] args) throws Exception {
    Database db = new Database(url(Path.of(args[0])) + args[1], "", "", THREADS + 1);
    try (Connection c = db.connection(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS crash_scratch (id INT PRIMARY KEY, v VARCHAR(10000))");
      s.execute("CREATE TABLE IF NOT EXISTS crash_pair (name VARCHAR(100) PRIMARY KEY)");
    }
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      new Thread(() -> {
        for (int i = 0; i < 1_000_000; i++) {
          String name = args[2] + "w" + thread + "-" + i;
          try (Connection c = db.connection();
              PreparedStatement ps = c.prepareStatement("INSERT INTO project (name, created) VALUES (?, ?)")) {
            c.setAutoCommit(false);
            ps.setString(1, name);
            ps.setLong(2, i);
            ps.executeUpdate();
            // the same name in a second table, last in the transaction: after the kill, both
            // tables hold the same names, or a transaction was stored in part
            try (PreparedStatement pair = c.prepareStatement("INSERT INTO crash_pair (name) VALUES (?)")) {
              pair.setString(1, name);
              pair.executeUpdate();
            }
            // a scratch row of random size replaced by every commit: pages and whole chunks die,
            // their space is reused, and chunks vary in length as real commits do
            try (PreparedStatement scratch = c.prepareStatement("MERGE INTO crash_scratch KEY (id) VALUES (?, ?)")) {
              scratch.setInt(1, thread);
              scratch.setString(2, "x".repeat(ThreadLocalRandom.current().nextInt(100, 6_000)));
              scratch.executeUpdate();
            }
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
    killAndCheck(dir, "", 1, 200, Duration.ZERO);
  }

  @Test
  void commitsAcknowledgedBeforeSigkillAreThereOnceSpaceIsReused(@TempDir Path dir) throws Exception {
    // H2's quick recovery lost the last commits in most of such kills; four rounds, each killing
    // after two seconds of commits, caught it every time
    killAndCheck(dir, ";RETENTION_TIME=100", 4, 100, Duration.ofSeconds(2));
  }

  @Test
  void commitsAcknowledgedBeforeSigkillAreThereWhenTheUrlSetsWriteDelayZero(@TempDir Path dir) throws Exception {
    // a store at every commit, had H2 kept the setting, leaves the file holding transactions past
    // the journal's mark, and the restart applied them a second time and did not start
    killAndCheck(dir, ";WRITE_DELAY=0", 1, 60, Duration.ZERO);
  }

  /**
   * {@code rounds} times: starts the child on the same database, lets it commit for at least
   * {@code commits} acknowledged rows and {@code run}, kills it, reopens the database and finds
   * every acknowledged row of every round.
   */
  private void killAndCheck(Path dir, String settings, int rounds, int commits, Duration run) throws Exception {
    List<String> acked = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      int before = acked.size();
      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), H2CrashTest.class.getName(), dir.toString(), settings,
          "r" + round).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
        long runUntil = Long.MAX_VALUE;
        String line;
        while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
          if (line.startsWith("acked ")) {
            acked.add(line.substring(6));
            runUntil = Math.min(runUntil, System.nanoTime() + run.toNanos());
          }
          if (acked.size() - before >= commits && System.nanoTime() >= runUntil) {
            break;
          }
        }
        child.destroyForcibly(); // SIGKILL while the threads commit: no shutdown hook, no close of the store
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      } finally {
        child.destroyForcibly();
      }
      assertThat(acked.size() - before).as("commits acknowledged before kill %d", round).isGreaterThanOrEqualTo(20);

      Set<String> stored = new HashSet<>();
      Set<String> paired = new HashSet<>();
      try (Database db = new Database(url(dir), "", "", 2);
          Connection c = db.connection();
          PreparedStatement ps = c.prepareStatement("SELECT name FROM project");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          stored.add(rs.getString(1));
        }
        try (PreparedStatement pairs = c.prepareStatement("SELECT name FROM crash_pair");
            ResultSet prs = pairs.executeQuery()) {
          while (prs.next()) {
            paired.add(prs.getString(1));
          }
        }
      }
      stored.removeIf(name -> !name.matches("r\\d+w\\d+-\\d+"));
      assertThat(paired).as("transactions stored whole after kill %d of %d", round + 1, rounds).isEqualTo(stored);
      List<String> lost = acked.stream().filter(name -> !stored.contains(name)).toList();
      assertThat(lost).as("acknowledged commits missing after kill %d of %d", round + 1, rounds).isEmpty();
    }
  }
}
