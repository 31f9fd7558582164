package org.fhirbox.client;

import ca.uhn.fhir.context.FhirContext;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest.BodyPublishers;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings for a {@link FhirboxClient}, from {@link FhirboxClient#builder()} or, to derive a
 * variant of an existing client, {@link FhirboxClient#newBuilder()}. Not thread-safe; the
 * clients it builds are.
 *
 * <pre>{@code
 * FhirboxClient client = FhirboxClient.builder()
 *     .baseUrl("http://localhost:8103/")
 *     .clientCredentials("my-client", "my-secret")
 *     .requestTimeout(Duration.ofSeconds(30))
 *     .build();
 * }</pre>
 */
public final class FhirboxClientBuilder {
  private enum Mode { NONE, BASIC, CLIENT_CREDENTIALS, TOKEN }

  /** Which token endpoint and client a token cache serves; the secret is compared, never shown. */
  private record TokenIdentity(String tokenUrl, String clientId, String secret) {
    @Override
    public String toString() {
      return "TokenIdentity[" + Endpoints.redact(tokenUrl) + ", " + clientId + "]";
    }
  }

  private String baseUrl;
  private Mode mode = Mode.NONE;
  private String id;
  private String secret;
  private HttpClient httpClient;
  private boolean ownHttpClient;
  FhirContext fhirContext;
  private Duration connectTimeout = Duration.ofSeconds(10);
  private Duration requestTimeout = Duration.ofSeconds(60);
  private RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
  ResumableUploads resumableUploads = ResumableUploads.DEFAULT;
  private Clock clock = Clock.systemUTC();
  private TokenCache tokenCache;
  /** See {@link #maxResponseBody(long)}. */
  long maxResponseBody = DEFAULT_MAX_RESPONSE_BODY;

  /** The default of {@link #maxResponseBody(long)}: 64 MiB. */
  public static final long DEFAULT_MAX_RESPONSE_BODY = 64L << 20;
  /** The most {@link #maxResponseBody(long)} takes: what one Java array holds. */
  private static final long MOST_RESPONSE_BODY = Integer.MAX_VALUE - 16;

  FhirboxClientBuilder() {
  }

  /**
   * Who the client is, for telling its kept uploads from another client's: the client id, or
   * only the kind of credentials for a bearer token (which a later run has anew) or none.
   */
  String principal() {
    return mode == Mode.BASIC || mode == Mode.CLIENT_CREDENTIALS ? mode + " " + id : mode.toString();
  }

  FhirboxClientBuilder copy() {
    FhirboxClientBuilder b = new FhirboxClientBuilder();
    b.baseUrl = baseUrl;
    b.mode = mode;
    b.id = id;
    b.secret = secret;
    b.httpClient = httpClient;
    b.ownHttpClient = ownHttpClient;
    b.fhirContext = fhirContext;
    b.connectTimeout = connectTimeout;
    b.requestTimeout = requestTimeout;
    b.retryPolicy = retryPolicy;
    b.resumableUploads = resumableUploads;
    b.clock = clock;
    b.tokenCache = tokenCache;
    b.maxResponseBody = maxResponseBody;
    return b;
  }

  /**
   * The server root, e.g. {@code http://localhost:8103/} (a URL ending in {@code fhir/R4/} is
   * accepted too). The FHIR API is under {@code fhir/R4/}, the token endpoint at {@code oauth2/token}.
   *
   * <pre>{@code
   * FhirboxClient.builder().baseUrl("https://fhirbox.example.org/").build();
   * }</pre>
   */
  public FhirboxClientBuilder baseUrl(String baseUrl) {
    this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
    return this;
  }

  /**
   * Authenticates with OAuth2 client credentials: a token is fetched on first use, cached, and
   * fetched again shortly before it expires or when the server rejects it.
   *
   * <pre>{@code
   * FhirboxClient.builder().baseUrl(url).clientCredentials("my-client", "my-secret").build();
   * }</pre>
   */
  public FhirboxClientBuilder clientCredentials(String clientId, String clientSecret) {
    return credentials(Mode.CLIENT_CREDENTIALS, clientId, Objects.requireNonNull(clientSecret, "clientSecret"));
  }

  /**
   * Authenticates every request with HTTP Basic {@code clientId:clientSecret} (no tokens).
   *
   * <pre>{@code
   * FhirboxClient.builder().baseUrl(url).basicAuth("my-client", "my-secret").build();
   * }</pre>
   */
  public FhirboxClientBuilder basicAuth(String clientId, String clientSecret) {
    return credentials(Mode.BASIC, clientId, Objects.requireNonNull(clientSecret, "clientSecret"));
  }

  /**
   * Sends a fixed bearer token, obtained elsewhere; it is never refreshed.
   *
   * <pre>{@code
   * FhirboxClient.builder().baseUrl(url).accessToken(System.getenv("FHIRBOX_TOKEN")).build();
   * }</pre>
   */
  public FhirboxClientBuilder accessToken(String token) {
    return credentials(Mode.TOKEN, Objects.requireNonNull(token, "token"), null);
  }

  private FhirboxClientBuilder credentials(Mode newMode, String newId, String newSecret) {
    this.mode = newMode;
    this.id = Objects.requireNonNull(newId);
    this.secret = newSecret;
    return this;
  }

  /**
   * The JDK HTTP client to send with (proxy, TLS, executor); by default one is created with the
   * connect timeout. It must follow no redirects ({@code HttpClient.Redirect.NEVER}, the JDK's
   * default): the JDK sends a request's {@code Authorization} on to wherever a redirect points,
   * another host too. Downloads follow redirects themselves, without credentials.
   *
   * <pre>{@code
   * HttpClient http = HttpClient.newBuilder().proxy(ProxySelector.of(proxyAddress)).build();
   * FhirboxClient.builder().baseUrl(url).httpClient(http).build();
   * }</pre>
   */
  public FhirboxClientBuilder httpClient(HttpClient httpClient) {
    Objects.requireNonNull(httpClient, "httpClient");
    if (httpClient.followRedirects() != HttpClient.Redirect.NEVER) {
      throw new IllegalArgumentException("the HttpClient follows redirects (" + httpClient.followRedirects()
          + "), which would send the client's credentials on to another host: build it with"
          + " followRedirects(HttpClient.Redirect.NEVER)");
    }
    this.httpClient = httpClient;
    this.ownHttpClient = false;
    return this;
  }

  /**
   * The R4 FhirContext to use; by default {@code FhirContext.forR4Cached()}. It is expensive to
   * create: share one.
   *
   * <pre>{@code
   * FhirboxClient.builder().baseUrl(url).fhirContext(FhirContext.forR4Cached()).build();
   * }</pre>
   */
  public FhirboxClientBuilder fhirContext(FhirContext fhirContext) {
    this.fhirContext = Objects.requireNonNull(fhirContext, "fhirContext");
    return this;
  }

  /**
   * How long to wait for a connection (default 10 s); applies to the HTTP client this builder
   * creates, not to one passed to {@link #httpClient(HttpClient)}.
   *
   * <pre>{@code
   * FhirboxClient.builder().baseUrl(url).connectTimeout(Duration.ofSeconds(3)).build();
   * }</pre>
   */
  public FhirboxClientBuilder connectTimeout(Duration timeout) {
    this.connectTimeout = Objects.requireNonNull(timeout, "timeout");
    if (ownHttpClient) {
      this.httpClient = null; // a variant with another connect timeout needs its own HTTP client
    }
    return this;
  }

  /**
   * How long to wait for the response headers of each request (default 60 s), and for each byte
   * of an answer's body: a body is not limited by it as a whole, but a read of it that waits that
   * long for a byte closes the connection and fails the call (a download resumes with a Range
   * request instead). A request that sends a body gets, on top of it, the time that body takes
   * at 64 kbit/s (and no limit when its length is unknown), so a large upload on a slow link is
   * not cut off.
   *
   * <pre>{@code
   * FhirboxClient.builder().baseUrl(url).requestTimeout(Duration.ofMinutes(2)).build();
   * }</pre>
   */
  public FhirboxClientBuilder requestTimeout(Duration timeout) {
    this.requestTimeout = Objects.requireNonNull(timeout, "timeout");
    return this;
  }

  /**
   * How idempotent requests are retried (default {@link RetryPolicy#DEFAULT}).
   *
   * <pre>{@code
   * FhirboxClient.builder().baseUrl(url).retryPolicy(RetryPolicy.NONE).build();
   * }</pre>
   */
  public FhirboxClientBuilder retryPolicy(RetryPolicy policy) {
    this.retryPolicy = Objects.requireNonNull(policy, "policy");
    return this;
  }

  /**
   * When files are uploaded resumably, in what pieces, how patiently, and where unfinished uploads
   * are remembered (default {@link ResumableUploads#DEFAULT}: files of 64 MiB and more).
   *
   * <pre>{@code
   * FhirboxClient.builder().baseUrl(url)
   *     .resumableUploads(ResumableUploads.DEFAULT.withThreshold(8 << 20).withChunkSize(8 << 20))
   *     .build();
   * }</pre>
   */
  public FhirboxClientBuilder resumableUploads(ResumableUploads settings) {
    this.resumableUploads = Objects.requireNonNull(settings, "settings");
    return this;
  }

  /**
   * The most bytes of a JSON answer the client reads into memory (default 64 MiB): a resource, a
   * search or history Bundle, an OperationOutcome, a token response, an admin API answer. A longer
   * one fails the call with a {@link FhirboxException} (status 0) naming the request, as soon as
   * its Content-Length or the bytes read show it is longer, so a server that misbehaves (or a
   * host that is not the server) cannot exhaust the memory. Binary downloads are streamed and
   * not limited by it; an error answer's body is read only up to 1 MiB.
   *
   * <pre>{@code
   * FhirboxClient.builder().baseUrl(url).maxResponseBody(256L << 20).build();
   * }</pre>
   *
   * @param bytes at least 1, at most {@code Integer.MAX_VALUE - 16} (what one array holds)
   */
  public FhirboxClientBuilder maxResponseBody(long bytes) {
    if (bytes < 1 || bytes > MOST_RESPONSE_BODY) {
      throw new IllegalArgumentException("maxResponseBody must be from 1 to " + MOST_RESPONSE_BODY + " bytes, got "
          + bytes);
    }
    this.maxResponseBody = bytes;
    return this;
  }

  /** The clock that decides when a token is due for refresh (tests). */
  FhirboxClientBuilder clock(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    return this;
  }

  /**
   * Builds the client.
   *
   * <pre>{@code
   * FhirboxClient client = FhirboxClient.builder().baseUrl("http://localhost:8103/").build();
   * }</pre>
   */
  public FhirboxClient build() {
    if (baseUrl == null) {
      throw new IllegalStateException("baseUrl is required");
    }
    FhirboxClientBuilder frozen = copy();
    Endpoints endpoints = Endpoints.of(baseUrl);
    if (frozen.fhirContext == null) {
      frozen.fhirContext = FhirContext.forR4Cached();
    }
    if (frozen.httpClient == null) {
      frozen.httpClient = HttpClient.newBuilder()
          .connectTimeout(connectTimeout)
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();
      frozen.ownHttpClient = true;
    }
    Retrier retrier = new Retrier(retryPolicy, clock);
    Transport plain = new Transport(frozen.httpClient, frozen.fhirContext, new Authorizer.Anonymous(), retrier,
        requestTimeout, endpoints);
    Authorizer auth = switch (mode) {
      case NONE -> new Authorizer.Anonymous();
      case BASIC -> new Authorizer.Fixed(Authorizer.basic(id, secret));
      case TOKEN -> new Authorizer.Fixed("Bearer " + id);
      case CLIENT_CREDENTIALS -> new Authorizer.Tokens(frozen.tokenCache = tokenCache(endpoints, plain));
    };
    if (mode != Mode.CLIENT_CREDENTIALS) {
      frozen.tokenCache = null;
    }
    Transport transport = new Transport(frozen.httpClient, frozen.fhirContext, auth, retrier, requestTimeout,
        endpoints);
    return new FhirboxClient(frozen, endpoints, transport);
  }

  private TokenCache tokenCache(Endpoints endpoints, Transport plain) {
    TokenIdentity identity = new TokenIdentity(endpoints.token().toString(), id, secret);
    if (tokenCache != null && tokenCache.serves(identity)) {
      return tokenCache;
    }
    String clientAuth = Authorizer.basic(id, secret);
    // RFC 6749 §4.4.2 with client authentication by HTTP Basic (§2.3.1).
    String form = "grant_type=" + URLEncoder.encode("client_credentials", StandardCharsets.UTF_8);
    long limit = maxResponseBody; // as built: a later change to this builder changes no built client
    return new TokenCache(() -> {
      Call call = Call.of("POST", endpoints.token())
          .body(BodyPublishers.ofString(form, StandardCharsets.UTF_8), true)
          .idempotent(true)
          .authenticated(false)
          .header("Content-Type", "application/x-www-form-urlencoded")
          .header("Accept", "application/json")
          .header("Authorization", clientAuth);
      return Codec.token(plain.exchange(call), call, limit);
    }, clock, identity);
  }
}
