package org.fhirbox.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.text.ParseException;
import java.time.Clock;
import java.util.Optional;
import java.util.UUID;
import org.fhirbox.db.Database;
import org.fhirbox.db.StoreException;

/**
 * The ES256 key that signs access tokens, kept in the {@code server_key} table so that every
 * node signs and verifies with the same key. The private key is stored as JWK JSON: the database
 * is as sensitive as the key.
 */
public final class SigningKeyStore {
  /** The fixed slot nodes race on: the first insert wins, everyone else reads the winner. */
  static final String SLOT = "access-token";

  private final Database db;
  private final Clock clock;

  public SigningKeyStore(Database db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  /** The shared key, generated and stored on first use. */
  public ECKey loadOrCreate() {
    Optional<ECKey> existing = load();
    if (existing.isPresent()) {
      return existing.get();
    }
    ECKey fresh = generate();
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("INSERT INTO server_key (name, kid, jwk, created) VALUES (?, ?, ?, ?)")) {
      ps.setString(1, SLOT);
      ps.setString(2, fresh.getKeyID());
      ps.setString(3, fresh.toJSONString());
      ps.setLong(4, clock.millis());
      ps.executeUpdate();
      return fresh;
    } catch (SQLException e) {
      if (ClientStore.isDuplicate(e)) {
        return load().orElseThrow(() -> new StoreException("signing key vanished after a lost insert race", e));
      }
      throw new StoreException("could not store the signing key", e);
    }
  }

  private Optional<ECKey> load() {
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT jwk FROM server_key WHERE name = ?")) {
      ps.setString(1, SLOT);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(ECKey.parse(rs.getString(1))) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new StoreException("could not read the signing key", e);
    } catch (ParseException e) {
      throw new IllegalStateException("the stored signing key is not a valid EC JWK", e);
    }
  }

  private static ECKey generate() {
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
}
