package org.fhirbox.auth;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.fhirbox.db.Database;
import org.fhirbox.db.StoreException;
import org.fhirbox.model.ListPosition;

/**
 * The people who sign in, in the database. Passwords are stored only as a stretched
 * {@link PasswordHasher} hash (PBKDF2-HMAC-SHA256, the iterations client secrets chosen by a person
 * get), and are checked with the same work whether or not the email exists. A password is set only
 * through a one-time link ({@link PasswordLinks}), or by the bootstrap user's configuration
 * ({@link #createIfAbsentInBackground}).
 */
public final class UserStore {
  /** NIST SP 800-63B 5.1.1.2 sets 8 as the floor; fhirbox asks for 12. The ceiling bounds hashing work. */
  public static final int MIN_PASSWORD = 12;
  public static final int MAX_PASSWORD = 256;
  /** A practical email shape (RFC 5321 limits the whole to 254 characters); delivery is never attempted. */
  private static final Pattern EMAIL = Pattern.compile("[^\\s@]{1,64}@[^\\s@]{1,253}");
  private static final Pattern FHIR_USER = Pattern.compile("(Practitioner|Patient|RelatedPerson)/[A-Za-z0-9\\-.]{1,64}");
  private static final String COLUMNS = "id, project, email, name, fhir_user, scopes, admin, disabled,"
      + " password_hash IS NOT NULL, sessions_since, created, updated";

  private final Database db;
  private final Sql sql;
  private final PasswordHasher hasher;
  private final ClientStore projects;
  private final Clock clock;
  /** Checked against when the email is unknown or has no password, so every answer costs the same. */
  private final String decoyHash;
  /** A user being created by {@link #createIfAbsentInBackground}; sign-ins with that email wait for it. */
  private volatile Pending pending;

  private record Pending(String project, String email, CompletableFuture<?> done) {}

  /** Told the id of each user changed here (disabled, sessions ended, password set or cleared). */
  private volatile Consumer<String> changed = id -> {};

  public UserStore(Database db, PasswordHasher hasher, ClientStore projects, Clock clock) {
    this.db = db;
    this.sql = new Sql(db);
    this.hasher = hasher;
    this.projects = projects;
    this.clock = clock;
    this.decoyHash = hasher.decoy();
  }

  /**
   * Creates a user without a password, creating the project when needed; empty when the email is
   * taken in the project. Throws {@link IllegalArgumentException} naming a malformed field.
   */
  public Optional<User> create(String project, String email, String name, String fhirUser, String scope,
      boolean admin) {
    return insert(project, email, name, fhirUser, scope, admin, null);
  }

  /**
   * Creates the user with a password a person chose, unless the email is taken in the project
   * (then empty), as the bootstrap configuration asks. The check, the stretching of the password
   * and the insert run on a thread of their own, so that a first start can listen meanwhile; until
   * the insert is done, a sign-in with that email ({@link #verifyPassword}) waits for it. Safe when
   * several nodes try at once: the unique email lets exactly one insert win. The fields are
   * checked at once ({@link IllegalArgumentException}).
   */
  public CompletableFuture<Optional<User>> createIfAbsentInBackground(String project, String email, String name,
      String fhirUser, String scope, boolean admin, String password) {
    String normalEmail = normalEmail(email);
    checkFields(name, fhirUser);
    ClientStore.normalised(scope);
    checkPassword(password);
    CompletableFuture<Optional<User>> done = new CompletableFuture<>();
    pending = new Pending(project, normalEmail, done);
    Thread t = new Thread(() -> {
      try {
        done.complete(findByEmail(project, normalEmail).isPresent() ? Optional.empty()
            : insert(project, normalEmail, name, fhirUser, scope, admin, hasher.hash(password)));
      } catch (RuntimeException | Error e) {
        done.completeExceptionally(e);
      }
    }, "fhirbox-bootstrap-user");
    t.setDaemon(true);
    t.start();
    return done;
  }

  private void awaitPending(String project, String normalEmail) {
    Pending p = pending;
    if (p != null && p.project().equals(project) && p.email().equals(normalEmail)) {
      p.done().handle((r, e) -> null).join(); // its failure is reported by the creator
    }
  }

  private Optional<User> insert(String project, String email, String name, String fhirUser, String scope,
      boolean admin, String passwordHash) {
    String normalEmail = normalEmail(email);
    checkFields(name, fhirUser);
    // stored as a client's scope is: each scope once, and no longer than the column
    Scopes scopes = ClientStore.normalised(scope);
    projects.ensureProject(project);
    String id = UUID.randomUUID().toString();
    long now = clock.millis();
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("INSERT INTO app_user (id, project, email, name, fhir_user, scopes,"
            + " admin, disabled, password_hash, sessions_since, created, updated)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, FALSE, ?, ?, ?, ?)")) {
      ps.setString(1, id);
      ps.setString(2, project);
      ps.setString(3, normalEmail);
      ps.setString(4, name.strip());
      ps.setString(5, fhirUser);
      ps.setString(6, scopes.toString());
      ps.setBoolean(7, admin || scopes.isAdmin());
      ps.setString(8, passwordHash);
      ps.setLong(9, now);
      ps.setLong(10, now);
      ps.setLong(11, now);
      ps.executeUpdate();
    } catch (SQLException e) {
      if (ClientStore.isDuplicate(e)) {
        return Optional.empty();
      }
      throw new StoreException("could not create user", e);
    }
    return find(id);
  }

  private static void checkFields(String name, String fhirUser) {
    if (name == null || name.isBlank() || name.length() > 256) {
      throw new IllegalArgumentException("a user needs a name of 1 to 256 characters");
    }
    if (fhirUser == null || !FHIR_USER.matcher(fhirUser).matches()) {
      throw new IllegalArgumentException(
          "fhirUser must be Practitioner/{id}, Patient/{id} or RelatedPerson/{id}");
    }
  }

  public Optional<User> find(String id) {
    return query("SELECT " + COLUMNS + " FROM app_user WHERE id = ?", id).stream().findFirst();
  }

  /** The user with {@code email} (compared case-insensitively) in {@code project}. */
  public Optional<User> findByEmail(String project, String email) {
    return query("SELECT " + COLUMNS + " FROM app_user WHERE project = ? AND email = ?", project,
        email == null ? "" : email.strip().toLowerCase(Locale.ROOT)).stream().findFirst();
  }

  /** The users of {@code project}, or of every project when it is null, ordered by creation. */
  public List<User> list(String project) {
    return project == null
        ? query("SELECT " + COLUMNS + " FROM app_user ORDER BY created, id")
        : query("SELECT " + COLUMNS + " FROM app_user WHERE project = ? ORDER BY created, id", project);
  }

  /**
   * A page of {@link #list}: at most {@code limit} users in the same order, those after
   * {@code after} (null: from the first), as {@link Sql#page} reads them.
   */
  public List<User> list(String project, ListPosition after, int limit) {
    return sql.page("read users", COLUMNS, "app_user", "id", project, after, limit, UserStore::row);
  }

  /** Calls {@code listener} with the id of each user changed through this store, once the change is stored. */
  public void onChange(Consumer<String> listener) {
    this.changed = listener;
  }

  /** Tells the listener of {@link #onChange} that user {@code id} changed. */
  void changed(String id) {
    changed.accept(id);
  }

  /**
   * Disables the user: no sign-in, and their tokens stop working at once on this node, within a
   * minute on others. False if unknown.
   */
  public boolean disable(String id) {
    boolean done = update("UPDATE app_user SET disabled = TRUE, updated = ? WHERE id = ?", clock.millis(), id) == 1;
    changed(id);
    return done;
  }

  /**
   * Sets the user's password; throws {@link IllegalArgumentException} when it is too short or too
   * long. Not public: people set passwords through a one-time link ({@link PasswordLinks}).
   */
  boolean setPassword(String id, String password) {
    checkPassword(password);
    boolean done = update("UPDATE app_user SET password_hash = ?, updated = ? WHERE id = ?", hasher.hash(password),
        clock.millis(), id) == 1;
    changed(id);
    return done;
  }

  /**
   * Ends the user's sessions as of now: refresh tokens issued before it are void, and access
   * tokens issued before it stop working ({@link TokenService#verify}), at once on this node and
   * within a minute on others. False if unknown.
   */
  public boolean endSessions(String id) {
    long now = clock.millis();
    boolean done = update("UPDATE app_user SET sessions_since = ?, updated = ? WHERE id = ?", now, now, id) == 1;
    changed(id);
    return done;
  }

  /** Forgets the password (a reset): the user signs in again only once they set a new one. */
  boolean clearPassword(String id) {
    return update("UPDATE app_user SET password_hash = NULL, updated = ? WHERE id = ?", clock.millis(), id) == 1;
  }

  /** Throws {@link IllegalArgumentException} unless {@code password} has 12 to 256 characters. */
  public static void checkPassword(String password) {
    int n = password == null ? 0 : password.codePointCount(0, password.length());
    if (n < MIN_PASSWORD || n > MAX_PASSWORD) {
      throw new IllegalArgumentException(
          "a password needs " + MIN_PASSWORD + " to " + MAX_PASSWORD + " characters");
    }
  }

  /**
   * The enabled user of {@code project} with this email and password, or empty. An unknown email,
   * a user without a password and a wrong password cost the same hashing work, so the timing does
   * not tell whether the email exists.
   */
  public Optional<User> verifyPassword(String project, String email, String password) {
    if (password == null || password.length() > MAX_PASSWORD * 2) {
      hasher.verify("", decoyHash);
      return Optional.empty();
    }
    String normalEmail = email == null ? "" : email.strip().toLowerCase(Locale.ROOT);
    awaitPending(project, normalEmail);
    String hash = null;
    User user = null;
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + ", password_hash FROM app_user"
            + " WHERE project = ? AND email = ?")) {
      ps.setString(1, project);
      ps.setString(2, normalEmail);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          user = row(rs);
          hash = rs.getString(13);
        }
      }
    } catch (SQLException e) {
      throw new StoreException("could not read user", e);
    }
    boolean ok = hasher.verify(password, hash == null ? decoyHash : hash) && hash != null;
    return ok && !user.disabled() ? Optional.of(user) : Optional.empty();
  }

  private static String normalEmail(String email) {
    String e = email == null ? "" : email.strip().toLowerCase(Locale.ROOT);
    if (e.length() > 254 || !EMAIL.matcher(e).matches()) {
      throw new IllegalArgumentException("'" + (e.length() > 80 ? e.substring(0, 80) + "…" : e)
          + "' is not an email address");
    }
    return e;
  }

  private List<User> query(String statement, Object... args) {
    return sql.query("read users", statement, UserStore::row, args);
  }

  private int update(String statement, Object... args) {
    return sql.update("update user", statement, args);
  }


  private static User row(ResultSet rs) throws SQLException {
    return new User(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
        rs.getString(6), rs.getBoolean(7), rs.getBoolean(8), rs.getBoolean(9), Instant.ofEpochMilli(rs.getLong(10)),
        Instant.ofEpochMilli(rs.getLong(11)), Instant.ofEpochMilli(rs.getLong(12)));
  }
}
