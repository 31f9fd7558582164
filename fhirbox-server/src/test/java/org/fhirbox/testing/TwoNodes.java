package org.fhirbox.testing;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * Two fhirbox nodes in one JVM, as behind a load balancer with no affinity: one fresh PostgreSQL
 * schema, one S3 server (s3proxy checking signatures, 5 MiB parts) and the same signing keys
 * (unless asked otherwise), nothing else shared. The AWS SDK's default credential chain of the nodes reads s3proxy's keys
 * from system properties, as it would read the environment; {@link #close} clears them.
 */
public final class TwoNodes implements AutoCloseable {
  private final S3Server s3;
  private final Postgres.Schema schema;
  private final String bucket;
  private final Map<String, String> shared;
  private final TestServer a;
  private final TestServer b;

  private TwoNodes(S3Server s3, Postgres.Schema schema, String bucket, Map<String, String> shared, TestServer a,
      TestServer b) {
    this.s3 = s3;
    this.schema = schema;
    this.bucket = bucket;
    this.shared = shared;
    this.a = a;
    this.b = b;
  }

  /** Two nodes with the shared settings plus {@code extra} (e.g. {@code FHIRBOX_BASE_URL} of a balancer). */
  public static TwoNodes start(Map<String, String> extra) throws Exception {
    return start(extra, Clock.systemUTC());
  }

  /** Two nodes whose every expiry and sweep follows {@code clock}, e.g. a {@link TestClock} both share. */
  public static TwoNodes start(Map<String, String> extra, Clock clock) throws Exception {
    return start(extra, clock, true);
  }

  /**
   * Two nodes as {@link #start(Map, Clock)} makes them, but with {@code FHIRBOX_SIGNING_KEYS} unset
   * when {@code sharedSigningKeys} is false: each node then finds its URL-signing key on its own.
   */
  public static TwoNodes start(Map<String, String> extra, Clock clock, boolean sharedSigningKeys) throws Exception {
    S3Server s3 = S3Server.start();
    S3Server.exportCredentials();
    Postgres.Schema schema = Postgres.freshSchema();
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    String bucket = S3Server.newBucketName();
    Map<String, String> shared = new HashMap<>(Map.of(
        "FHIRBOX_DATABASE_URL", schema.url(),
        "FHIRBOX_BLOB_STORE", "s3",
        "FHIRBOX_S3_BUCKET", bucket,
        "FHIRBOX_S3_ENDPOINT", s3.endpoint().toString(),
        "FHIRBOX_S3_PATH_STYLE", "true",
        "FHIRBOX_S3_CREATE_BUCKET", "true",
        "FHIRBOX_S3_PART_SIZE", Integer.toString(5 << 20),
        "FHIRBOX_SIGNING_KEYS", "shared1:" + Base64.getEncoder().encodeToString(key)));
    if (!sharedSigningKeys) {
      shared.remove("FHIRBOX_SIGNING_KEYS");
    }
    shared.putAll(extra);
    TestServer a = null;
    try {
      a = TestServer.start(shared, clock);
      return new TwoNodes(s3, schema, bucket, Map.copyOf(shared), a, TestServer.start(shared, clock));
    } catch (Exception | Error e) {
      try (S3Server s = s3; Postgres.Schema p = schema; TestServer started = a) {
        S3Server.clearCredentials();
      }
      throw e;
    }
  }

  public TestServer a() {
    return a;
  }

  public TestServer b() {
    return b;
  }

  public S3Server s3() {
    return s3;
  }

  public String bucket() {
    return bucket;
  }

  /** The settings both nodes got: a third node started with them joins the two. */
  public Map<String, String> shared() {
    return shared;
  }

  @Override
  public void close() throws Exception {
    // the nodes first, then what they share
    try (S3Server s = s3; Postgres.Schema p = schema; TestServer second = b; TestServer first = a) {
      S3Server.clearCredentials();
    }
  }
}
