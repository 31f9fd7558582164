package org.fhirbox.db.migration;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds stored versions that cannot be read back and takes them out of service, on H2 and
 * PostgreSQL alike. Before numbers were bounded on write, a decimal such as {@code 1e1001} was
 * stored as its plain form (1,002 digits), which Jackson refuses to read (its limit is 1,000
 * characters), and from then on every search and history of that type failed.
 *
 * <p>Each such version is copied whole into {@code quarantined_version} (with the reason and the
 * time), then turned into a deletion in place: its content is removed and, when it was current,
 * its search index rows too. Nothing is lost (an operator reads the original from the quarantine
 * table), and reads answer 410 Gone for that version instead of failing. A version counts as
 * unreadable when its JSON does not parse under Jackson's default limits, or holds a number
 * whose plain form has more than 1,000 characters (readable in exponent form, but minutes of
 * work for HAPI, which converts it to the plain form). This check is written out here rather
 * than shared, so the migration keeps doing what it did when it was first applied.
 */
public class V6__Quarantine_unreadable_versions extends BaseJavaMigration {
  private static final Logger LOG = LoggerFactory.getLogger(V6__Quarantine_unreadable_versions.class);
  private static final JsonFactory JSON = new JsonFactory();
  private static final int MAX_PLAIN = 1000;

  private record Bad(String project, String type, String id, long version, boolean current, String reason) {}

  @Override
  public void migrate(Context context) throws Exception {
    Connection c = context.getConnection();
    try (Statement s = c.createStatement()) {
      s.execute("""
          CREATE TABLE quarantined_version (
            project       VARCHAR(64)  NOT NULL,
            res_type      VARCHAR(64)  NOT NULL,
            res_id        VARCHAR(64)  NOT NULL,
            version_id    BIGINT       NOT NULL,
            last_updated  BIGINT       NOT NULL,
            quarantined   BIGINT       NOT NULL,
            reason        VARCHAR(500) NOT NULL,
            content       CHARACTER VARYING,
            PRIMARY KEY (project, res_type, res_id, version_id)
          )""");
    }
    List<Bad> bad = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT v.project, v.res_type, v.res_id, v.version_id, v.content, c.version_id
        FROM resource_version v LEFT JOIN resource_current c
          ON c.project = v.project AND c.res_type = v.res_type AND c.res_id = v.res_id
        WHERE v.content IS NOT NULL""")) {
      ps.setFetchSize(100);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Optional<String> why = problem(rs.getString(5));
          if (why.isPresent()) {
            long version = rs.getLong(4);
            bad.add(new Bad(rs.getString(1), rs.getString(2), rs.getString(3), version,
                rs.getObject(6) != null && rs.getLong(6) == version, why.get()));
          }
        }
      }
    }
    long now = System.currentTimeMillis();
    for (Bad b : bad) {
      quarantine(c, b, now);
      LOG.warn("{}/{} version {} of project {} cannot be read back ({}); it is now a deletion and its content is "
          + "kept in table quarantined_version", b.type(), b.id(), b.version(), b.project(), b.reason());
    }
    if (!bad.isEmpty()) {
      LOG.warn("{} unreadable stored version(s) quarantined", bad.size());
    }
  }

  private static void quarantine(Connection c, Bad b, long now) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        INSERT INTO quarantined_version (project, res_type, res_id, version_id, last_updated, quarantined, reason, content)
        SELECT project, res_type, res_id, version_id, last_updated, ?, ?, content FROM resource_version
        WHERE project = ? AND res_type = ? AND res_id = ? AND version_id = ?""")) {
      ps.setLong(1, now);
      ps.setString(2, b.reason());
      keyFrom(ps, 3, b);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("""
        UPDATE resource_version SET deleted = TRUE, content = NULL
        WHERE project = ? AND res_type = ? AND res_id = ? AND version_id = ?""")) {
      keyFrom(ps, 1, b);
      ps.executeUpdate();
    }
    if (b.current()) {
      try (PreparedStatement ps = c.prepareStatement("""
          UPDATE resource_current SET deleted = TRUE, content = NULL
          WHERE project = ? AND res_type = ? AND res_id = ? AND version_id = ?""")) {
        keyFrom(ps, 1, b);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(
          "DELETE FROM search_value WHERE project = ? AND res_type = ? AND res_id = ?")) {
        ps.setString(1, b.project());
        ps.setString(2, b.type());
        ps.setString(3, b.id());
        ps.executeUpdate();
      }
    }
  }

  private static void keyFrom(PreparedStatement ps, int first, Bad b) throws SQLException {
    ps.setString(first, b.project());
    ps.setString(first + 1, b.type());
    ps.setString(first + 2, b.id());
    ps.setLong(first + 3, b.version());
  }

  /** Why {@code json} cannot be read back, or empty when it can. */
  static Optional<String> problem(String json) {
    try (JsonParser p = JSON.createParser(json)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
          String text = p.getText();
          if (plainLength(text) > MAX_PLAIN) {
            return Optional.of("the number " + text.substring(0, Math.min(40, text.length()))
                + (text.length() > 40 ? "..." : "") + " has more than " + MAX_PLAIN + " digits written out");
          }
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage());
      return Optional.of(m.length() > 300 ? m.substring(0, 300) + "..." : m);
    }
  }

  /** The length of a JSON number written without an exponent, saturating far above the limit. */
  static long plainLength(String text) {
    int e = Math.max(text.indexOf('e'), text.indexOf('E'));
    String mantissa = e >= 0 ? text.substring(0, e) : text;
    long exponent = 0;
    if (e >= 0) {
      String digits = text.substring(e + 1).replace("+", "");
      if (digits.replace("-", "").length() > 9) {
        return Long.MAX_VALUE;
      }
      exponent = Long.parseLong(digits);
    }
    int dot = mantissa.indexOf('.');
    int intDigits = dot >= 0 ? dot : mantissa.length();
    int fracDigits = dot >= 0 ? mantissa.length() - dot - 1 : 0;
    // moving the point by the exponent: digits before it grow, or zeros are added after it
    long before = Math.max(1, intDigits + exponent);
    long after = Math.max(0, fracDigits - exponent);
    return before + after + 1;
  }
}
