package org.fhirbox.auth;

import java.time.Clock;
import java.time.Duration;

/**
 * Slows down failed client authentication on this node without letting a stranger lock a client
 * out. Three counters, each a {@link FailureLimiter}:
 * <ul>
 *   <li>per client id and address (5 failures): a guesser slows down only itself;
 *   <li>per address (20 failures, across client ids): one address cannot try many ids;
 *   <li>per client id across all addresses (100 failures): bounds guessing spread over many
 *       addresses, and the PBKDF2 work a chosen secret costs. It does not apply to an address
 *       from which that client authenticated within the last day, so a flood of wrong secrets
 *       for a known client id does not stop the client itself. A public client has no secret:
 *       wrong secrets for its id count on the first two only, and a request that names it without
 *       credentials, as it should, is no attempt at all ({@code ClientAuthenticator}).
 * </ul>
 * A success clears the counter of its pair only; the per-address and per-client counters are
 * forgotten after a quiet window, so that succeeding with an account or client of one's own does
 * not reset them for guesses at others.
 *
 * <p>An address is counted as {@link AddressRateLimiter} counts it: an IPv6 address by its /64,
 * which one host commonly holds whole (a new source address per guess would otherwise escape
 * the first two counters), anything else as it is; so is the record of where a client succeeded.
 *
 * <p>A check of a secret is admitted by {@link #begin} before the secret is hashed and counted as
 * in flight on each counter until it ends (see {@link FailureLimiter}), so that parallel guesses
 * cannot all pass the check before the first of them is counted as a failure.
 */
final class AuthThrottle {
  /** At most this many client-address pairs are remembered as having succeeded. */
  static final int MAX_KNOWN = 100_000;
  /** A refusal is reported as the first of its key at most once per this long (the longest block). */
  static final long REFUSAL_REPORT_MILLIS = 60_000;

  private final Clock clock;
  private final FailureLimiter perPair;
  private final FailureLimiter perAddress;
  private final FailureLimiter perClient;
  private final long rememberMillis;
  /**
   * "clientId address" to the time of that pair's last success, bounded as {@link FailureLimiter}'s
   * counters are: only a success adds a pair, but anyone with an account or client of their own can
   * succeed from many addresses, so the pair used longest ago goes when a new one comes (O(1), no
   * scan of every pair) and pairs are kept hashed. A pair pushed out only loses its exemption from
   * the per-client counter until its next success.
   */
  private final RecentKeys known = new RecentKeys(MAX_KNOWN);
  /** Which counter's key last had a refusal reported, and when (see {@link Attempt#firstRefusal()}). */
  private final RecentKeys refusals = new RecentKeys(FailureLimiter.MAX_KEYS);

  AuthThrottle(Clock clock, FailureLimiter perPair, FailureLimiter perAddress, FailureLimiter perClient,
      Duration remember) {
    this.clock = clock;
    this.perPair = perPair;
    this.perAddress = perAddress;
    this.perClient = perClient;
    this.rememberMillis = remember.toMillis();
  }

  /** 5 per pair, 20 per address, 100 per client id; then 1 s, 2 s ... 60 s; 15 quiet minutes forget. */
  static AuthThrottle standard(Clock clock) {
    Duration window = Duration.ofMinutes(15);
    Duration cap = Duration.ofSeconds(60);
    return new AuthThrottle(clock, new FailureLimiter(clock, 5, window, cap),
        new FailureLimiter(clock, 20, window, cap), new FailureLimiter(clock, 100, window, cap), Duration.ofDays(1));
  }

  /**
   * Admits one attempt by {@code remoteAddress} at {@code clientId} (null when the request named none),
   * or refuses it ({@link Attempt#retryAfterSeconds()} above 0, nothing counted). End an admitted
   * attempt with {@link Attempt#failed()} or {@link Attempt#succeeded()}; closing it without
   * either lets it go uncounted.
   */
  Attempt begin(String clientId, String remoteAddress) {
    String address = AddressRateLimiter.key(remoteAddress);
    boolean checkClient = clientId != null && !isKnown(clientId, address);
    String pair = clientId == null ? null : pair(clientId, address);
    long wait = pair == null ? 0 : perPair.tryAcquire(pair);
    String refusedBy = "pair " + pair;
    if (wait == 0) {
      wait = perAddress.tryAcquire(address);
      refusedBy = "address " + address;
      if (wait == 0) {
        wait = checkClient ? perClient.tryAcquire(clientId) : 0;
        refusedBy = "client " + clientId;
        if (wait > 0) {
          perAddress.released(address);
        }
      }
      if (wait > 0 && pair != null) {
        perPair.released(pair);
      }
    }
    if (wait > 0) {
      long now = clientId == null ? perAddress.retryAfterSeconds(address) : retryAfterSeconds(clientId, address);
      boolean first = refusals.firstWithin(refusedBy, clock.millis(), REFUSAL_REPORT_MILLIS);
      return new Attempt(clientId, address, false, Math.max(wait, now), first);
    }
    return new Attempt(clientId, address, checkClient, 0, false);
  }

  /** One check of a secret admitted by {@link #begin}, or one refused before any check. */
  final class Attempt implements AutoCloseable {
    private final String clientId;
    private final String address;
    private final boolean clientReserved;
    private final long retryAfterSeconds;
    private final boolean firstRefusal;
    private boolean ended;

    private Attempt(String clientId, String address, boolean clientReserved, long retryAfterSeconds,
        boolean firstRefusal) {
      this.clientId = clientId;
      this.address = address;
      this.clientReserved = clientReserved;
      this.retryAfterSeconds = retryAfterSeconds;
      this.firstRefusal = firstRefusal;
      this.ended = retryAfterSeconds > 0;
    }

    /** 0 when admitted; else the seconds to wait, and nothing was checked or counted. */
    long retryAfterSeconds() {
      return retryAfterSeconds;
    }

    /**
     * True for a refused attempt that is the first refused by its counter's key (the pair, the
     * address or the client id) within {@value AuthThrottle#REFUSAL_REPORT_MILLIS} ms; false for
     * the rest and for admitted attempts. A refusal costs the caller no hashing, so one address can
     * send them as fast as it likes: callers that record refusals (an AuditEvent each) record only
     * these, so that the record stays bounded per key while the refusals themselves are not.
     */
    boolean firstRefusal() {
      return firstRefusal;
    }

    /** The secret was wrong (or the attempt failed otherwise): counted on every counter. */
    void failed() {
      if (end()) {
        if (clientId != null) {
          perPair.failed(pair(clientId, address));
          if (clientReserved) {
            perClient.failed(clientId);
          } else {
            perClient.failure(clientId);
          }
        }
        perAddress.failed(address);
      }
    }

    /**
     * A wrong secret (or assertion) for a public client, which has none: counted on the pair and
     * the address, never on the client id. Guessing a secret that does not exist tells nothing
     * about the client, and counting it there would let a stranger hold back every caller of the
     * client, none of whom ever authenticates and so none of whom is exempt from that count.
     */
    void failedWithoutClient() {
      if (end()) {
        perPair.failed(pair(clientId, address));
        if (clientReserved) {
          perClient.released(clientId);
        }
        perAddress.failed(address);
      }
    }

    /** The secret was right: clears the pair's counter and remembers the address for the client. */
    void succeeded() {
      if (end()) {
        perPair.succeeded(pair(clientId, address));
        perAddress.released(address);
        if (clientReserved) {
          perClient.released(clientId);
        }
        remember(clientId, address);
      }
    }

    /** Lets an attempt that neither failed nor succeeded go without counting it. */
    @Override
    public void close() {
      if (end()) {
        if (clientId != null) {
          perPair.released(pair(clientId, address));
        }
        perAddress.released(address);
        if (clientReserved) {
          perClient.released(clientId);
        }
      }
    }

    private synchronized boolean end() {
      boolean first = !ended;
      ended = true;
      return first;
    }
  }

  /** Seconds before {@code remoteAddress} may try {@code clientId} again, 0 when it may try now. */
  long retryAfterSeconds(String clientId, String remoteAddress) {
    String address = AddressRateLimiter.key(remoteAddress);
    long wait = Math.max(perPair.retryAfterSeconds(pair(clientId, address)), perAddress.retryAfterSeconds(address));
    if (!isKnown(clientId, address)) {
      wait = Math.max(wait, perClient.retryAfterSeconds(clientId));
    }
    return wait;
  }

  /**
   * A failure from {@code remoteAddress} that {@link #begin} did not admit (one found before any secret
   * was checked, e.g. a malformed assertion); {@code clientId} is null when the request named none.
   */
  void failure(String clientId, String remoteAddress) {
    String address = AddressRateLimiter.key(remoteAddress);
    if (clientId != null) {
      perPair.failure(pair(clientId, address));
      perClient.failure(clientId);
    }
    perAddress.failure(address);
  }

  private void remember(String clientId, String address) {
    known.put(pair(clientId, address), clock.millis());
  }

  /** True when {@code remoteAddress} succeeded for {@code clientId} within the remembered time. */
  boolean isKnown(String clientId, String remoteAddress) {
    long last = known.get(pair(clientId, AddressRateLimiter.key(remoteAddress)));
    return last >= 0 && clock.millis() - last <= rememberMillis;
  }

  /** How many pairs are remembered (at most {@link #MAX_KNOWN}). */
  int knownCount() {
    return known.size();
  }

  private static String pair(String clientId, String address) {
    return clientId + ' ' + address;
  }
}
