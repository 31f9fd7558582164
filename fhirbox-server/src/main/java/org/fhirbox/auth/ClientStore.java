package org.fhirbox.auth;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.fhirbox.db.Database;
import org.fhirbox.db.StoreException;
import org.fhirbox.model.ListPosition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OAuth2 clients and projects in the database. Secrets are returned in plain text exactly once
 * ({@link #create}, {@link #rotateSecret}) and stored only as a {@link PasswordHasher} hash.
 */
public final class ClientStore {
  private static final Logger LOG = LoggerFactory.getLogger(ClientStore.class);
  /** Project names: letters, digits, '.', '_' and '-', at most 64 characters. */
  public static final Pattern PROJECT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern CLIENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._~-]{0,127}");
  /** The longest scope a client is registered with, normalised: the length of its column. */
  public static final int MAX_SCOPE_CHARS = 4000;
  private static final String COLUMNS = "client_id, project, scopes, admin, disabled, jwks IS NOT NULL,"
      + " public_client, first_party, redirect_uris, created, updated, id_token_alg, tokens_since";

  private final Database db;
  private final Sql sql;
  private final PasswordHasher hasher;
  private final Clock clock;
  private final VerifiedSecrets verified;
  /**
   * Checked against when the client id is unknown or a public client's, so the answer takes as
   * long as for a client with a generated secret (every client but a configured bootstrap one,
   * whose stretched secret takes longer: its id is in the server's configuration, not a secret).
   */
  private final String decoyHash;
  /** A client being created by {@link #createIfAbsentInBackground}; look-ups of its id wait for it. */
  private volatile Pending pending;

  private record Pending(String clientId, CompletableFuture<?> done) {}

  /** The configured bootstrap client's id and secret, to say so when the stored secret differs. */
  private volatile Configured configured;

  private record Configured(String clientId, byte[] secret, AtomicBoolean reported) {}

  /** Told the id of each client changed here (disabled, its secret or scope replaced). */
  private volatile Consumer<String> changed = id -> {};

  public ClientStore(Database db, PasswordHasher hasher, Clock clock) {
    this.db = db;
    this.sql = new Sql(db);
    this.hasher = hasher;
    this.clock = clock;
    this.verified = new VerifiedSecrets(clock, Duration.ofSeconds(60));
    this.decoyHash = hasher.hashGenerated(hasher.newSecret());
  }

  /** Creates a client with a random id and secret in {@code project}, creating the project when needed. */
  public ClientCredentials create(String project, String scope, boolean admin) {
    return create(project, scope, admin, ClientProfile.MACHINE);
  }

  /**
   * Creates a client with a random id in {@code project}: a confidential one gets a random secret,
   * a public one none (its credentials carry a null secret).
   */
  public ClientCredentials create(String project, String scope, boolean admin, ClientProfile profile) {
    String secret = profile.publicClient() ? null : hasher.newSecret();
    return insert(UUID.randomUUID().toString(), secret, secret == null ? null : hasher.hashGenerated(secret), project,
        scope, admin, profile).orElseThrow(() -> new IllegalStateException("client id collision"));
  }

  /**
   * Creates the client with the given id and a secret a person chose (stored with a stretched
   * hash) unless one with that id exists (then empty). Safe when several nodes try at once:
   * exactly one insert wins.
   */
  public Optional<ClientCredentials> createIfAbsent(String clientId, String secret, String project, String scope,
      boolean admin) {
    return absent(clientId) ? insert(clientId, secret, hasher.hash(secret), project, scope, admin, ClientProfile.MACHINE)
        : Optional.empty();
  }

  /**
   * As {@link #createIfAbsent}, but when the client is absent the stretching and the insert run
   * on a thread of their own, so a first start can listen meanwhile (PBKDF2 of a chosen secret
   * takes a second or more of CPU this early in a JVM's life); until the insert is done, every
   * look-up of that client id ({@link #find}, {@link #verifySecret}) waits for it.
   */
  public CompletableFuture<Optional<ClientCredentials>> createIfAbsentInBackground(String clientId, String secret,
      String project, String scope, boolean admin) {
    if (!absent(clientId)) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    CompletableFuture<Optional<ClientCredentials>> done = new CompletableFuture<>();
    pending = new Pending(clientId, done);
    Thread t = new Thread(() -> {
      try {
        String hash = hasher.hash(secret);
        Optional<ClientCredentials> created = insert(clientId, secret, hash, project, scope, admin,
            ClientProfile.MACHINE);
        // the secret was just hashed: the first authentication with it need not stretch it again
        created.ifPresent(c -> verified.remember(clientId, secret, hash));
        done.complete(created);
      } catch (RuntimeException | Error e) {
        done.completeExceptionally(e);
      }
    }, "fhirbox-bootstrap-client");
    t.setDaemon(true);
    t.start();
    return done;
  }

  private void awaitPending(String clientId) {
    Pending p = pending;
    if (p != null && p.clientId().equals(clientId)) {
      p.done().handle((r, e) -> null).join(); // its failure is reported by the creator
    }
  }

  /** Creates the public client with the given id unless one with that id exists (then empty). */
  public Optional<ClientCredentials> createPublicIfAbsent(String clientId, String project, String scope,
      ClientProfile profile) {
    if (!profile.publicClient()) {
      throw new IllegalArgumentException("not a public client");
    }
    return absent(clientId) ? insert(clientId, null, null, project, scope, false, profile) : Optional.empty();
  }

  /** As {@link #createIfAbsent}, with a fresh random secret. */
  public Optional<ClientCredentials> createWithNewSecretIfAbsent(String clientId, String project, String scope,
      boolean admin) {
    String secret = hasher.newSecret();
    return absent(clientId)
        ? insert(clientId, secret, hasher.hashGenerated(secret), project, scope, admin, ClientProfile.MACHINE)
        : Optional.empty();
  }

  /** Checked before hashing: every restart of every node finds its bootstrap client there. */
  private boolean absent(String clientId) {
    if (!CLIENT_ID.matcher(clientId).matches()) {
      throw new IllegalArgumentException("client ids use letters, digits and . _ ~ - (at most 128)");
    }
    return find(clientId).isEmpty();
  }

  private Optional<ClientCredentials> insert(String clientId, String secret, String secretHash, String project,
      String scope, boolean admin, ClientProfile profile) {
    Scopes scopes = normalised(scope);
    boolean isAdmin = admin || scopes.isAdmin();
    ensureProject(project);
    long now = clock.millis();
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("INSERT INTO oauth_client (client_id, project, secret_hash, scopes,"
            + " admin, disabled, jwks, public_client, first_party, redirect_uris, created, updated, id_token_alg)"
            + " VALUES (?, ?, ?, ?, ?, FALSE, NULL, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, clientId);
      ps.setString(2, project);
      ps.setString(3, secretHash);
      ps.setString(4, scopes.toString());
      ps.setBoolean(5, isAdmin);
      ps.setBoolean(6, profile.publicClient());
      ps.setBoolean(7, profile.firstParty());
      ps.setString(8, String.join(" ", profile.redirectUris()));
      ps.setLong(9, now);
      ps.setLong(10, now);
      // NULL for the default, so that clients created before the column read the same
      ps.setString(11, ClientProfile.RS256.equals(profile.idTokenAlg()) ? null : profile.idTokenAlg());
      ps.executeUpdate();
    } catch (SQLException e) {
      if (isDuplicate(e)) {
        return Optional.empty();
      }
      throw new StoreException("could not create client", e);
    }
    return Optional.of(new ClientCredentials(project, clientId, secret, scopes.withAdmin(isAdmin).toString()));
  }

  /** Creates the project unless it exists. */
  public void ensureProject(String name) {
    if (name == null || !PROJECT_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("project names use letters, digits and . _ - (at most 64)");
    }
    try (Connection c = db.connection()) {
      try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM project WHERE name = ?")) {
        q.setString(1, name);
        try (ResultSet rs = q.executeQuery()) {
          if (rs.next()) {
            return;
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO project (name, created) VALUES (?, ?)")) {
        ps.setString(1, name);
        ps.setLong(2, clock.millis());
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      if (!isDuplicate(e)) {
        throw new StoreException("could not create project", e);
      }
    }
  }

  public Optional<OAuthClient> find(String clientId) {
    awaitPending(clientId);
    List<OAuthClient> found = query("SELECT " + COLUMNS + " FROM oauth_client WHERE client_id = ?", clientId);
    return found.stream().findFirst();
  }

  /** The clients of {@code project}, or of every project when it is null, ordered by creation. */
  public List<OAuthClient> list(String project) {
    return project == null
        ? query("SELECT " + COLUMNS + " FROM oauth_client ORDER BY created, client_id")
        : query("SELECT " + COLUMNS + " FROM oauth_client WHERE project = ? ORDER BY created, client_id", project);
  }

  /**
   * A page of {@link #list}: at most {@code limit} clients in the same order, those after
   * {@code after} (null: from the first), as {@link Sql#page} reads them.
   */
  public List<OAuthClient> list(String project, ListPosition after, int limit) {
    return sql.page("read clients", COLUMNS, "oauth_client", "client_id", project, after, limit, ClientStore::row);
  }

  public long count() {
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM oauth_client");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new StoreException("could not count clients", e);
    }
  }

  /** Calls {@code listener} with the id of each client changed through this store, once the change is stored. */
  public void onChange(Consumer<String> listener) {
    this.changed = listener;
  }

  /**
   * Disables the client: no new tokens, and its tokens stop working at once on this node, within a
   * minute on others. False if unknown.
   */
  public boolean disable(String clientId) {
    boolean done = update("UPDATE oauth_client SET disabled = TRUE, updated = ? WHERE client_id = ?", clock.millis(),
        clientId) == 1;
    changed.accept(clientId);
    return done;
  }

  /**
   * Replaces the secret; the old one stops working at once (also in the verified-secret cache), and
   * so do the access tokens issued before ({@link OAuthClient#tokensSince}).
   * Throws {@link IllegalArgumentException} for a public client, which has no secret.
   */
  public Optional<ClientCredentials> rotateSecret(String clientId) {
    Optional<OAuthClient> client = find(clientId);
    if (client.isEmpty()) {
      return Optional.empty();
    }
    if (client.get().publicClient()) {
      throw new IllegalArgumentException("a public client has no secret to rotate");
    }
    String secret = hasher.newSecret();
    long now = clock.millis();
    if (update("UPDATE oauth_client SET secret_hash = ?, updated = ?, tokens_since = ? WHERE client_id = ?",
        hasher.hashGenerated(secret), now, now, clientId) != 1) {
      return Optional.empty();
    }
    changed.accept(clientId);
    OAuthClient cl = client.get();
    return Optional.of(new ClientCredentials(cl.project(), clientId, secret, cl.allowedScopes().toString()));
  }

  /**
   * Registers the public keys the client signs private_key_jwt assertions with. False if unknown.
   * A public client may not: keys would make it a confidential one. A set that leaves out a key
   * registered before ends the access tokens issued before it, as a rotated secret does (a key
   * taken away may have leaked); one that only adds keys (a rotation's first step) leaves them.
   */
  public boolean registerJwks(String clientId, JWKSet jwks) {
    if (jwks.getKeys().isEmpty() || jwks.getKeys().stream().anyMatch(k -> k.isPrivate())) {
      throw new IllegalArgumentException("a JWKS for private_key_jwt needs at least one key and only public keys");
    }
    if (find(clientId).map(OAuthClient::publicClient).orElse(false)) {
      throw new IllegalArgumentException("a public client authenticates with no key; create a confidential client");
    }
    String json = jwks.toString(true);
    List<JWK> kept = jwks.getKeys();
    boolean dropsKey = jwks(clientId).map(before -> before.getKeys().stream().anyMatch(k -> !kept.contains(k)))
        .orElse(false);
    long now = clock.millis();
    boolean done = dropsKey
        ? update("UPDATE oauth_client SET jwks = ?, updated = ?, tokens_since = ? WHERE client_id = ?", json, now, now,
            clientId) == 1
        : update("UPDATE oauth_client SET jwks = ?, updated = ? WHERE client_id = ?", json, now, clientId) == 1;
    if (done && dropsKey) {
      changed.accept(clientId);
    }
    return done;
  }

  /** Replaces the client's redirect URIs (checked as {@link ClientProfile} does). False if unknown. */
  public boolean setRedirectUris(String clientId, List<String> redirectUris) {
    List<String> uris = ClientProfile.checkRedirectUris(redirectUris);
    if (uris.isEmpty() && find(clientId).map(OAuthClient::publicClient).orElse(false)) {
      throw new IllegalArgumentException("a public client needs at least one redirect URI");
    }
    return update("UPDATE oauth_client SET redirect_uris = ?, updated = ? WHERE client_id = ?", String.join(" ", uris),
        clock.millis(), clientId) == 1;
  }

  /**
   * Adds {@code redirectUri} to the client's redirect URIs unless it is there already; false when
   * there is no such client. A compare-and-set on the list as read, read again when another
   * writer changed it meanwhile, so that processes adding their own URIs at once (nodes under
   * different base URLs) all keep theirs.
   */
  public boolean addRedirectUri(String clientId, String redirectUri) {
    ClientProfile.checkRedirectUris(List.of(redirectUri));
    while (true) {
      Optional<String> stored = sql.one("read client", "SELECT COALESCE(redirect_uris, '') FROM oauth_client"
          + " WHERE client_id = ?", rs -> rs.getString(1), clientId);
      if (stored.isEmpty()) {
        return false;
      }
      List<String> uris = new ArrayList<>(redirectUris(stored.get()));
      if (uris.contains(redirectUri)) {
        return true;
      }
      uris.add(redirectUri);
      if (update("UPDATE oauth_client SET redirect_uris = ?, updated = ? WHERE client_id = ?"
          + " AND COALESCE(redirect_uris, '') = ?", String.join(" ", uris), clock.millis(), clientId,
          stored.get()) == 1) {
        return true;
      }
    }
  }

  /**
   * Replaces the client's registered scope. It bounds what the client's tokens carry from now on,
   * refreshed sign-ins included ({@link SignInScopes#atRefresh}). The client is an admin exactly
   * when the new scope names {@code admin}: a scope without it takes admin away, whatever the
   * client was created with. False if unknown.
   */
  public boolean setScope(String clientId, String scope) {
    Scopes scopes = normalised(scope);
    return update("UPDATE oauth_client SET scopes = ?, admin = ?, updated = ? WHERE client_id = ?", scopes.toString(),
        scopes.isAdmin(), clock.millis(), clientId) == 1;
  }

  /**
   * A client's (or a user's) scope as it is stored, on creation and on change alike: in {@link Scopes}' canonical
   * form (each scope once, a type's permissions merged); {@link IllegalArgumentException} for what
   * is not SMART scopes or is still longer than the column holds ({@link #MAX_SCOPE_CHARS}).
   */
  static Scopes normalised(String scope) {
    Scopes scopes = Scopes.parse(scope);
    int length = scopes.toString().length();
    if (length > MAX_SCOPE_CHARS) {
      throw new IllegalArgumentException("the scope is " + length + " characters once each scope is listed once;"
          + " a scope is at most " + MAX_SCOPE_CHARS + " (use wildcards such as system/*.rs)");
    }
    return scopes;
  }

  /** The client's registered JWKS, if any. */
  public Optional<JWKSet> jwks(String clientId) {
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT jwks FROM oauth_client WHERE client_id = ?")) {
      ps.setString(1, clientId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || rs.getString(1) == null) {
          return Optional.empty();
        }
        return Optional.of(JWKSet.parse(rs.getString(1)));
      }
    } catch (SQLException e) {
      throw new StoreException("could not read client keys", e);
    } catch (java.text.ParseException e) {
      throw new IllegalStateException("stored JWKS of a client is not valid", e);
    }
  }

  /**
   * The client when {@code secret} is its current secret and it is enabled. A match is remembered
   * for 60 seconds (see {@link VerifiedSecrets}), so repeated Basic authentication stays cheap.
   */
  public Optional<OAuthClient> verifySecret(String clientId, String secret) {
    return verifySecret(clientId, secret, null);
  }

  /**
   * As {@link #verifySecret(String, String)}, trying {@code alternative} (another reading of the
   * same credentials, or null) only when {@code secret} does not match. A remembered match of
   * either is looked for before either is stretched, so a client that always sends the second
   * reading pays no PBKDF2 for the first on each request.
   */
  Optional<OAuthClient> verifySecret(String clientId, String secret, String alternative) {
    awaitPending(clientId);
    String hash = null;
    OAuthClient client = null;
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + ", secret_hash FROM oauth_client"
            + " WHERE client_id = ?")) {
      ps.setString(1, clientId);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          client = row(rs);
          hash = rs.getString("secret_hash");
        }
      }
    } catch (SQLException e) {
      throw new StoreException("could not read client", e);
    }
    if (client == null || hash == null) {
      // an unknown client, or a public one (it has no secret, and says so in its registration):
      // the same comparisons as for a client's wrong secret, against a hash no secret matches, so
      // that the time taken does not tell which ids are confidential clients
      matching(clientId, secret, alternative, decoyHash);
      return Optional.empty();
    }
    String match = matching(clientId, secret, alternative, hash);
    if (match == null || client.disabled()) {
      reportIfConfigured(clientId, match != null ? match : secret, match != null);
      if (match == null && alternative != null) {
        reportIfConfigured(clientId, alternative, false);
      }
      return Optional.empty();
    }
    verified.remember(clientId, match, hash);
    return Optional.of(client);
  }

  /** Whichever of {@code secret} and {@code alternative} (may be null) matches {@code hash}, {@code secret} first. */
  private String matching(String clientId, String secret, String alternative, String hash) {
    if (verified.contains(clientId, secret, hash)) {
      return secret;
    }
    if (alternative != null && verified.contains(clientId, alternative, hash)) {
      return alternative;
    }
    if (hasher.verify(secret, hash)) {
      return secret;
    }
    return alternative != null && hasher.verify(alternative, hash) ? alternative : null;
  }

  /**
   * Remembers the configured bootstrap client's id and secret: when that secret is later refused
   * (the client exists with another secret, or is disabled), a warning says it is not applied.
   * Nothing is verified here: a restart does not stretch the configured secret again; the first
   * authentication with it compares it with the stored hash once, as any authentication does.
   */
  void watchConfigured(String clientId, String secret) {
    configured = new Configured(clientId, secret.getBytes(StandardCharsets.UTF_8), new AtomicBoolean());
  }

  private void reportIfConfigured(String clientId, String secret, boolean secretMatched) {
    Configured c = configured;
    if (c != null && c.clientId().equals(clientId)
        && MessageDigest.isEqual(c.secret(), secret.getBytes(StandardCharsets.UTF_8))
        && c.reported().compareAndSet(false, true)) {
      LOG.warn("bootstrap client {} {}; FHIRBOX_BOOTSTRAP_CLIENT_SECRET is not applied", clientId,
          secretMatched ? "is disabled" : "already exists with another secret");
    }
  }

  /** True when the database reported a unique-key violation (SQLState 23505 on H2 and PostgreSQL). */
  static boolean isDuplicate(SQLException e) {
    for (SQLException x = e; x != null; x = x.getNextException()) {
      if ("23505".equals(x.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  private List<OAuthClient> query(String statement, Object... args) {
    return sql.query("read clients", statement, ClientStore::row, args);
  }

  private int update(String statement, Object... args) {
    return sql.update("update client", statement, args);
  }


  /** The stored form of redirect URIs (space-separated, or null) as a list. */
  private static List<String> redirectUris(String stored) {
    return stored == null || stored.isBlank() ? List.of() : List.of(stored.trim().split(" +"));
  }

  private static OAuthClient row(ResultSet rs) throws SQLException {
    return new OAuthClient(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4), rs.getBoolean(5),
        rs.getBoolean(6), rs.getBoolean(7), rs.getBoolean(8), redirectUris(rs.getString(9)),
        rs.getString(12) == null ? ClientProfile.RS256 : rs.getString(12),
        Instant.ofEpochMilli(rs.getLong(10)), Instant.ofEpochMilli(rs.getLong(11)), Instant.ofEpochMilli(rs.getLong(13)));
  }
}
