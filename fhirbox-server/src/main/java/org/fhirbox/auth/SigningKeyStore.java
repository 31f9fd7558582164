package org.fhirbox.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetSequenceKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.text.ParseException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.fhirbox.db.Database;
import org.fhirbox.db.StoreException;
import org.fhirbox.signing.SigningKeys;

/**
 * The server's token-signing keys, kept in the {@code server_key} table so that every node signs
 * and verifies with the same keys: the ES256 key of access tokens (slot {@value #SLOT}) and the
 * RS256 key of ID tokens (slot {@value #RSA_SLOT}), and, on a database that several nodes may share,
 * the HMAC key of signed storage URLs (slot {@value #URL_SLOT}). Each slot is a fixed primary key that nodes
 * race on: the first insert wins, everyone else reads the winner. The private keys are stored as
 * JWK JSON: the database is as sensitive as the keys.
 */
public final class SigningKeyStore {
  /** The ES256 (P-256) key of access tokens, also offered for ID tokens. */
  static final String SLOT = "access-token";
  /** The RS256 key of ID tokens (OpenID Connect Discovery 1.0 §3: RS256 must be supported). */
  static final String RSA_SLOT = "id-token-rsa";
  /** RFC 7518 §3.3: a key of 2048 bits or larger must be used with RS256. */
  static final int RSA_BITS = 2048;
  /** The HMAC-SHA256 key of signed storage and upload URLs, when FHIRBOX_SIGNING_KEYS does not name one. */
  static final String URL_SLOT = "storage-url";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Database db;
  private final Clock clock;

  public SigningKeyStore(Database db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  /** The shared ES256 key, generated and stored on first use. */
  public ECKey loadOrCreate() {
    return loadOrCreate(SLOT, ECKey.class, SigningKeyStore::generateEc);
  }

  /**
   * The shared RS256 key, generated and stored on first use. Generating it costs 0.1 to 0.6 s of
   * CPU (a cold JVM finding two 1024-bit primes), so callers keep it off the start-up path.
   */
  public RSAKey loadOrCreateRsa() {
    return loadOrCreate(RSA_SLOT, RSAKey.class, SigningKeyStore::generateRsa);
  }

  /**
   * The shared key of signed URLs, generated and stored on first use: a URL one node signs is
   * honoured by every other node of the database.
   */
  public SigningKeys loadOrCreateUrlKeys() {
    OctetSequenceKey key = loadOrCreate(URL_SLOT, OctetSequenceKey.class, SigningKeyStore::generateHmac);
    return SigningKeys.parse(key.getKeyID() + ":" + Base64.getEncoder().encodeToString(key.toByteArray()));
  }

  private <K extends JWK> K loadOrCreate(String slot, Class<K> type, Supplier<K> generator) {
    Optional<K> existing = load(slot, type);
    if (existing.isPresent()) {
      return existing.get();
    }
    K fresh = generator.get();
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("INSERT INTO server_key (name, kid, jwk, created) VALUES (?, ?, ?, ?)")) {
      ps.setString(1, slot);
      ps.setString(2, fresh.getKeyID());
      ps.setString(3, fresh.toJSONString());
      ps.setLong(4, clock.millis());
      ps.executeUpdate();
      return fresh;
    } catch (SQLException e) {
      if (ClientStore.isDuplicate(e)) {
        return load(slot, type).orElseThrow(() -> new StoreException("signing key vanished after a lost insert race", e));
      }
      throw new StoreException("could not store the signing key", e);
    }
  }

  private <K extends JWK> Optional<K> load(String slot, Class<K> type) {
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT jwk FROM server_key WHERE name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        JWK jwk = JWK.parse(rs.getString(1));
        if (!type.isInstance(jwk) || !jwk.isPrivate()) {
          throw new IllegalStateException("the stored signing key '" + slot + "' is not a private " + type.getSimpleName());
        }
        return Optional.of(type.cast(jwk));
      }
    } catch (SQLException e) {
      throw new StoreException("could not read the signing key", e);
    } catch (ParseException e) {
      throw new IllegalStateException("the stored signing key '" + slot + "' is not a valid JWK", e);
    }
  }

  private static ECKey generateEc() {
    try {
      return new ECKeyGenerator(Curve.P_256)
          .keyID(UUID.randomUUID().toString())
          .keyUse(KeyUse.SIGNATURE)
          .algorithm(JWSAlgorithm.ES256)
          .generate();
    } catch (JOSEException e) {
      throw new IllegalStateException("could not generate a P-256 key", e);
    }
  }

  private static OctetSequenceKey generateHmac() {
    byte[] kid = new byte[6];
    RANDOM.nextBytes(kid);
    try {
      return new OctetSequenceKeyGenerator(SigningKeys.MIN_KEY_BYTES * 8)
          .keyID("k" + HexFormat.of().formatHex(kid))
          .generate();
    } catch (JOSEException e) {
      throw new IllegalStateException("could not generate an HMAC key", e);
    }
  }

  private static RSAKey generateRsa() {
    try {
      return new RSAKeyGenerator(RSA_BITS)
          .keyID(UUID.randomUUID().toString())
          .keyUse(KeyUse.SIGNATURE)
          .algorithm(JWSAlgorithm.RS256)
          .generate();
    } catch (JOSEException e) {
      throw new IllegalStateException("could not generate an RSA key", e);
    }
  }
}
