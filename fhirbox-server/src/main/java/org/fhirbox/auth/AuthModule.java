package org.fhirbox.auth;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.db.Database;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds authentication and the administration of clients and users from the configuration, by
 * constructor: {@code FHIRBOX_TOKEN_TTL} (seconds, default 3600), {@code FHIRBOX_BOOTSTRAP_CLIENT_ID}
 * and {@code FHIRBOX_BOOTSTRAP_CLIENT_SECRET}, {@code FHIRBOX_BOOTSTRAP_USER_EMAIL} and
 * {@code FHIRBOX_BOOTSTRAP_USER_PASSWORD}.
 */
public final class AuthModule {
  private static final Logger LOG = LoggerFactory.getLogger(AuthModule.class);
  /** The id of the admin client generated on first start when no bootstrap client is configured. */
  public static final String GENERATED_ADMIN_ID = "admin";
  /** The project whose admins administer every project; the bootstrap client lives here. */
  public static final String SERVER_PROJECT = "default";
  static final String ADMIN_SCOPE = "system/*.cruds admin";
  /** The resource the bootstrap user is ({@code fhirUser}); the server does not create it. */
  public static final String BOOTSTRAP_USER_FHIR_USER = "Practitioner/bootstrap-admin";
  static final String BOOTSTRAP_USER_NAME = "Administrator";
  static final String BOOTSTRAP_USER_SCOPE = "user/*.cruds";
  /** How long a client's or user's enabled status, or a sign-in's, is trusted by token verification. */
  static final Duration CLIENT_STATUS_TTL = Duration.ofSeconds(60);

  private final FhirboxConfig config;
  private final ClientStore clients;
  private final UserStore users;
  private final PasswordLinks passwordLinks;
  private final SignIn signIn;
  private final TokenKeys keys;
  private final RefreshTokens refreshTokens;
  private final TokenService tokens;
  private final ClientAuthenticator clientAuth;
  private final Supplier<String> issuer;
  private final Audiences audiences;
  /** The configured bootstrap client being stored by {@link #bootstrap}: present when this process created it. */
  private volatile CompletableFuture<Optional<ClientCredentials>> bootstrapCreation =
      CompletableFuture.completedFuture(Optional.empty());

  /** @param baseUrl the server's public base URL ending in '/', known once it listens */
  /** @param claimed what the audit trail keeps of a refused caller's claimed identity */
  public AuthModule(FhirboxConfig config, Database db, Clock clock, Supplier<String> baseUrl, ClaimedText claimed) {
    this(config, db, clock, baseUrl, new PasswordHasher(), claimed);
  }

  /** @param hasher stretches the secrets and passwords people choose */
  public AuthModule(FhirboxConfig config, Database db, Clock clock, Supplier<String> baseUrl, PasswordHasher hasher,
      ClaimedText claimed) {
    this.config = config;
    this.clients = new ClientStore(db, hasher, clock);
    this.users = new UserStore(db, hasher, clients, clock);
    this.passwordLinks = new PasswordLinks(db, users, hasher, clock);
    this.signIn = new SignIn(users, AuthThrottle.standard(clock), clock);
    this.issuer = issuer(config, baseUrl);
    this.keys = new TokenKeys(new SigningKeyStore(db, clock));
    // here rather than in SignInModule: a person's access token is refused once its sign-in has ended
    this.refreshTokens = new RefreshTokens(db, users, clock, config.seconds("FHIRBOX_REFRESH_TOKEN_TTL"),
        config.seconds("FHIRBOX_TOKEN_TTL"));
    this.tokens = new TokenService(keys.ec(), issuer, config.seconds("FHIRBOX_TOKEN_TTL"), clock, clients::find,
        users::find, refreshTokens::familyRevoked, CLIENT_STATUS_TTL);
    // a change made on this node counts here at once; other nodes look each client and user up once a minute
    clients.onChange(tokens::forgetClient);
    users.onChange(tokens::forgetUser);
    refreshTokens.onEnd(tokens::forgetSignIn);
    this.audiences = new Audiences(baseUrl, config.orderedList("FHIRBOX_BASE_URL_ALIASES"), issuer);
    this.clientAuth = new ClientAuthenticator(clients, new ReplayGuard(db, clock), AuthThrottle.standard(clock),
        audiences, clock, claimed);
  }

  /**
   * Makes sure an admin client exists. With {@code FHIRBOX_BOOTSTRAP_CLIENT_ID} and
   * {@code _SECRET} set, creates that client in project {@code default} unless it exists (an
   * existing client is left as it is, and a warning says so when its configured secret is
   * refused); the creation finishes in the background, and authentication as that client
   * waits for it. Without them, and only when there is no client at all, creates client
   * {@value #GENERATED_ADMIN_ID} with a random secret and returns its credentials so that the
   * caller can show the secret once. Safe when several nodes start at once: the client id is the
   * primary key, so exactly one insert wins.
   */
  public Optional<ClientCredentials> bootstrap() {
    Optional<String> id = config.optional("FHIRBOX_BOOTSTRAP_CLIENT_ID");
    Optional<String> secret = config.optional("FHIRBOX_BOOTSTRAP_CLIENT_SECRET");
    if (id.isPresent() != secret.isPresent()) {
      throw new IllegalArgumentException("set both FHIRBOX_BOOTSTRAP_CLIENT_ID and FHIRBOX_BOOTSTRAP_CLIENT_SECRET");
    }
    if (id.isPresent()) {
      if (secret.get().length() < 16) {
        LOG.warn("FHIRBOX_BOOTSTRAP_CLIENT_SECRET is shorter than 16 characters; use a long random secret");
      }
      clients.watchConfigured(id.get(), secret.get());
      bootstrapCreation = clients.createIfAbsentInBackground(id.get(), secret.get(), SERVER_PROJECT,
          ADMIN_SCOPE, true).whenComplete((created, e) -> {
            if (e != null) {
              LOG.error("could not create bootstrap admin client {}", id.get(), e);
            } else if (created.isPresent()) {
              LOG.info("created bootstrap admin client {} in project {}", id.get(), SERVER_PROJECT);
            }
          });
      return Optional.empty();
    }
    if (clients.count() > 0) {
      return Optional.empty();
    }
    return clients.createWithNewSecretIfAbsent(GENERATED_ADMIN_ID, SERVER_PROJECT, ADMIN_SCOPE, true);
  }

  /**
   * With {@code FHIRBOX_BOOTSTRAP_USER_EMAIL} and {@code _PASSWORD} set, creates that user in
   * project {@value #SERVER_PROJECT} unless the email is taken there: an admin named
   * {@value #BOOTSTRAP_USER_NAME}, {@code fhirUser} {@value #BOOTSTRAP_USER_FHIR_USER}, scopes
   * {@value #BOOTSTRAP_USER_SCOPE}. An existing user is left as it is (its password is not
   * changed: reset it through the admin API). The password is stretched and the user stored on a
   * thread of their own, so start-up does not wait; a sign-in with that email waits for it. Safe
   * when several nodes start at once (the email is unique in the project). Neither the password
   * nor its hash is ever logged.
   *
   * @return the creation: the user when this process created it, empty when it existed or
   *     nothing is configured
   * @throws IllegalArgumentException when only one of the two is set, or either is malformed
   *     (the password needs {@value UserStore#MIN_PASSWORD} to {@value UserStore#MAX_PASSWORD}
   *     characters)
   */
  public CompletableFuture<Optional<User>> bootstrapUser() {
    Optional<String> email = config.optional("FHIRBOX_BOOTSTRAP_USER_EMAIL");
    Optional<String> password = Optional.of(config.get("FHIRBOX_BOOTSTRAP_USER_PASSWORD")).filter(p -> !p.isEmpty());
    if (email.isPresent() != password.isPresent()) {
      throw new IllegalArgumentException("set both FHIRBOX_BOOTSTRAP_USER_EMAIL and FHIRBOX_BOOTSTRAP_USER_PASSWORD");
    }
    if (email.isEmpty()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    try {
      UserStore.checkPassword(password.get());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("FHIRBOX_BOOTSTRAP_USER_PASSWORD: " + e.getMessage());
    }
    return users.createIfAbsentInBackground(SERVER_PROJECT, email.get(), BOOTSTRAP_USER_NAME,
        BOOTSTRAP_USER_FHIR_USER, BOOTSTRAP_USER_SCOPE, true, password.get()).whenComplete((created, e) -> {
          if (e != null) {
            LOG.error("could not create the bootstrap admin user", e);
          } else if (created.isPresent()) {
            LOG.info("created bootstrap admin user {} in project {}", created.get().email(), SERVER_PROJECT);
          }
        });
  }

  /**
   * Whether the configured bootstrap secret is the client's, waiting for a creation under way.
   * Costs a password-hash verification when another process stored the client, so the server
   * does not run it at start: the first authentication with that secret compares it with the
   * stored hash anyway (once; then {@link VerifiedSecrets} remembers it), and a refusal of the
   * configured secret logs that it is not applied ({@link ClientStore#watchConfigured}).
   *
   * @return whether the configured secret is the client's (true when none is configured)
   */
  public boolean checkBootstrapSecret() {
    Optional<String> id = config.optional("FHIRBOX_BOOTSTRAP_CLIENT_ID");
    Optional<String> secret = config.optional("FHIRBOX_BOOTSTRAP_CLIENT_SECRET");
    if (bootstrapCreation.handle((created, e) -> created != null && created.isPresent()).join()) {
      return true; // this process stored it with this secret: verifying would stretch it a second time
    }
    return id.isEmpty() || secret.isEmpty() || clients.verifySecret(id.get(), secret.get()).isPresent();
  }

  /** Client authentication (secrets, private-key JWT assertions) with its failure throttle. */
  public ClientAuthenticator clientAuthenticator() {
    return clientAuth;
  }

  /** The base URLs a client may name as an audience: the base URL, its aliases and the issuer. */
  public Audiences audiences() {
    return audiences;
  }

  public ClientStore clients() {
    return clients;
  }

  /** The people who sign in. */
  public UserStore users() {
    return users;
  }

  /** One-time links that set or reset a user's password. */
  public PasswordLinks passwordLinks() {
    return passwordLinks;
  }

  /** Email and password checks for a sign-in page, with their failure throttle. */
  public SignIn signIn() {
    return signIn;
  }

  /** The refresh tokens of people's sign-ins (built here for {@link #tokens()}; {@link SignInModule} hands them out). */
  public RefreshTokens refreshTokens() {
    return refreshTokens;
  }

  public TokenService tokens() {
    return tokens;
  }

  /** The keys that sign access tokens (ES256) and ID tokens (RS256), published as the JWKS. */
  public TokenKeys keys() {
    return keys;
  }

  /** The {@code iss} of the tokens: {@code FHIRBOX_TOKEN_ISSUER}, else the base URL. */
  public Supplier<String> issuer() {
    return issuer;
  }

  /**
   * The issuer of a server of this configuration and base URL, as {@link #issuer()} gives it: the
   * discovery documents and the CapabilityStatement name their endpoints under it. It names the
   * deployment, not the node: nodes behind one load balancer share it.
   */
  public static Supplier<String> issuer(FhirboxConfig config, Supplier<String> baseUrl) {
    return () -> config.optional("FHIRBOX_TOKEN_ISSUER").orElseGet(baseUrl);
  }
}
