package org.fhirbox.client;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An OAuth2 access token, fetched on first use, reused until shortly before it expires, and
 * fetched by one thread at a time however many are waiting for it. A refresh that fails while the
 * token still works keeps it, and is tried again some seconds later rather than by every call.
 */
final class TokenCache {
  /** Fetches a fresh token from the token endpoint. */
  interface Source {
    Fetched fetch();
  }

  /** What the token endpoint returned. */
  record Fetched(String accessToken, Duration expiresIn) {
    @Override
    public String toString() {
      return "Fetched[accessToken=redacted, expiresIn=" + expiresIn + "]";
    }
  }

  private record Token(String value, Instant refreshAt, Instant expiresAt) {
    @Override
    public String toString() {
      return "Token[redacted, refreshAt=" + refreshAt + "]";
    }
  }

  private static final Duration EARLY = Duration.ofSeconds(60);
  private static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(10);

  private final Source source;
  private final Clock clock;
  private final Object identity;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile Token current;

  /** {@code identity} says which credentials at which endpoint this cache serves. */
  TokenCache(Source source, Clock clock, Object identity) {
    this.source = source;
    this.clock = clock;
    this.identity = identity;
  }

  boolean serves(Object otherIdentity) {
    return identity.equals(otherIdentity);
  }

  /** A token valid now; fetches one when there is none or it is due for refresh. */
  String token() {
    Token t = current;
    if (t != null && clock.instant().isBefore(t.refreshAt())) {
      return t.value();
    }
    try {
      // the fetch another caller makes may take the request timeout and its retries: a caller
      // waiting for it answers an interrupt as every other wait of the client does
      lock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FhirboxException.client("waiting for an access token was interrupted", e);
    }
    try {
      t = current;
      Instant now = clock.instant();
      if (t != null && now.isBefore(t.refreshAt())) {
        return t.value();
      }
      try {
        current = issue(source.fetch(), now);
      } catch (FhirboxException e) {
        if (t != null && now.isBefore(t.expiresAt())) {
          // the refresh failed early; the old token still works for a while, and the next try
          // waits a little, so that not every call meanwhile waits for a failing endpoint first
          current = new Token(t.value(), now.plus(retryWait(now, t.expiresAt())), t.expiresAt());
          return t.value();
        }
        throw e;
      }
      return current.value();
    } finally {
      lock.unlock();
    }
  }

  /** Forgets {@code rejected} if it is still the cached token (a 401 for it). */
  void invalidate(String rejected) {
    lock.lock();
    try {
      Token t = current;
      if (t != null && t.value().equals(rejected)) {
        current = null;
      }
    } finally {
      lock.unlock();
    }
  }

  /** After a failed early refresh: 10 s, or half the old token's remaining life when that is shorter. */
  private static Duration retryWait(Instant now, Instant expiresAt) {
    Duration half = Duration.between(now, expiresAt).dividedBy(2);
    return half.compareTo(RETRY_AFTER_FAILURE) < 0 ? half : RETRY_AFTER_FAILURE;
  }

  /** Refresh 60 s before expiry, or at 90% of the lifetime when that is shorter. */
  private static Token issue(Fetched f, Instant now) {
    Duration life = f.expiresIn().isNegative() ? Duration.ZERO : f.expiresIn();
    Duration early = life.dividedBy(10).compareTo(EARLY) < 0 ? life.dividedBy(10) : EARLY;
    return new Token(f.accessToken(), now.plus(life).minus(early), now.plus(life));
  }
}
