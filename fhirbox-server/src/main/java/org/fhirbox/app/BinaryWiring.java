package org.fhirbox.app;

import ca.uhn.fhir.context.FhirContext;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import org.fhirbox.binary.BinaryPolicy;
import org.fhirbox.binary.BinaryService;
import org.fhirbox.binary.HostResolver;
import org.fhirbox.binary.IngestJobs;
import org.fhirbox.binary.IngestWorker;
import org.fhirbox.binary.SafeFetcher;
import org.fhirbox.binary.UrlPolicy;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.fhir.BinaryData;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.storage.BlobInfo;

/** The Binary and ingestion pieces' settings, read from the configuration for {@link FhirboxServer}. */
final class BinaryWiring {
  private BinaryWiring() {}

  static BinaryPolicy policy(FhirboxConfig config) {
    return new BinaryPolicy(config.getLong("FHIRBOX_MAX_BINARY_BYTES"), config.list("FHIRBOX_BINARY_DENY_TYPES"),
        config.list("FHIRBOX_BINARY_DENY_EXTENSIONS"));
  }

  static SafeFetcher fetcher(FhirboxConfig config, UrlPolicy policy, BinaryService binaries, HostResolver resolver) {
    return new SafeFetcher(policy, new SafeFetcher.Settings(config.seconds("FHIRBOX_INGEST_CONNECT_TIMEOUT"),
        config.seconds("FHIRBOX_INGEST_READ_TIMEOUT"), config.seconds("FHIRBOX_INGEST_TIMEOUT"),
        config.getInt("FHIRBOX_INGEST_MAX_REDIRECTS"), binaries.policy().maxBytes(),
        config.getLong("FHIRBOX_INGEST_MIN_BYTES_PER_SECOND"), config.seconds("FHIRBOX_INGEST_MIN_RATE_SECONDS")),
        resolver);
  }

  static IngestJobs ingestJobs(FhirboxConfig config, FhirContext ctx, FhirCodec codec, UrlPolicy policy, Clock clock) {
    return new IngestJobs(ctx, codec, policy, Set.copyOf(config.orderedList("FHIRBOX_INGEST_DISABLED_PROJECTS")),
        config.getLong("FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT"), clock);
  }

  static IngestWorker.Settings ingest(FhirboxConfig config) {
    return new IngestWorker.Settings(Duration.ofMillis(config.getLong("FHIRBOX_INGEST_POLL_MILLIS")),
        config.seconds("FHIRBOX_INGEST_LEASE_SECONDS"), config.getInt("FHIRBOX_INGEST_MAX_ATTEMPTS"),
        Duration.ofMillis(config.getLong("FHIRBOX_INGEST_BACKOFF_MILLIS")),
        config.getInt("FHIRBOX_INGEST_CONCURRENCY"), config.getInt("FHIRBOX_INGEST_PROJECT_CONCURRENCY"));
  }

  /** Where the base64 {@code data} of a Binary inside a FHIR body (or a Bundle) is stored. */
  static BinaryData inlineData(BinaryService binaries) {
    return new BinaryData() {
      @Override
      public BlobInfo store(byte[] data, String contentType) {
        return binaries.storeDecoded(data, contentType);
      }

      @Override
      public void checkKept(String contentType) {
        binaries.checkKept(contentType);
      }

      @Override
      public void discardAfter(BlobInfo info, RuntimeException failure) {
        binaries.discardUnlessCommitted(info, failure);
      }

      @Override
      public void discard(BlobInfo info) {
        binaries.discard(info);
      }
    };
  }
}
