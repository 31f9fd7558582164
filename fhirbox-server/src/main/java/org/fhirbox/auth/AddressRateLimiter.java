package org.fhirbox.auth;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.regex.Pattern;

/**
 * Holds each caller address to {@code perMinute} requests a minute (a token bucket: up to
 * {@code perMinute} at once, then one more every {@code 60 / perMinute} seconds), for requests
 * that cost the server something it keeps, such as a stored authorization request. An IPv6
 * address counts by its /64, which one host commonly holds whole.
 *
 * <p>Kept as {@link FailureLimiter} keeps its counters: in memory on each node (N nodes allow N
 * times the requests), each key as its SHA-256, at most {@value #MAX_KEYS} keys, the one used
 * longest ago going when a new one comes; an evicted key starts over with a full bucket.
 */
public final class AddressRateLimiter {
  static final int MAX_KEYS = 100_000;
  /** What may be parsed as an IPv6 literal; anything else is never handed to name resolution. */
  private static final Pattern IPV6_LITERAL = Pattern.compile("[0-9A-Fa-f:.]+(%[0-9A-Za-z._-]+)?");

  /** The tokens left (fractions refill over time) as of {@code at}, in milliseconds. */
  private record Bucket(double tokens, long at) {}

  private final Clock clock;
  private final int perMinute;
  /** SHA-256 of the key to its bucket, least recently used first; guarded by itself. */
  private final LinkedHashMap<String, Bucket> buckets = RecentKeys.lru(MAX_KEYS);

  public AddressRateLimiter(Clock clock, int perMinute) {
    if (perMinute < 1) {
      throw new IllegalArgumentException("at least one request a minute, got " + perMinute);
    }
    this.clock = clock;
    this.perMinute = perMinute;
  }

  /**
   * Counts one request from {@code address} and returns 0 when it may go ahead, or refuses it
   * (nothing counted) and returns the whole seconds until the next one may.
   */
  public long tryAcquire(String address) {
    long now = clock.millis();
    String k = FailureLimiter.digest(key(address));
    synchronized (buckets) {
      double tokens = tokens(buckets.get(k), now);
      if (tokens >= 1) {
        buckets.put(k, new Bucket(tokens - 1, now));
        return 0;
      }
      buckets.put(k, new Bucket(tokens, now));
      return waitSeconds(tokens);
    }
  }

  /**
   * What {@link #tryAcquire} would answer for {@code address} now, counting nothing: for a request
   * that stores nothing but should be told what the one that would store gets (a HEAD).
   */
  public long peek(String address) {
    long now = clock.millis();
    String k = FailureLimiter.digest(key(address));
    synchronized (buckets) {
      double tokens = tokens(buckets.get(k), now);
      return tokens >= 1 ? 0 : waitSeconds(tokens);
    }
  }

  /** The tokens of bucket {@code b} (null: a key not seen) refilled up to {@code now}. */
  private double tokens(Bucket b, long now) {
    return b == null ? perMinute : Math.min(perMinute, b.tokens() + Math.max(0, now - b.at()) * perMinute / 60_000.0);
  }

  private long waitSeconds(double tokens) {
    return Math.max(1, (long) Math.ceil((1 - tokens) * 60.0 / perMinute));
  }

  /** How many keys are kept (at most {@link #MAX_KEYS}). */
  int size() {
    synchronized (buckets) {
      return buckets.size();
    }
  }

  /** The address as counted: an IPv6 address by its first 64 bits, anything else as it is. */
  static String key(String address) {
    if (address == null) {
      return "";
    }
    if (address.indexOf(':') < 0 || !IPV6_LITERAL.matcher(address).matches()) {
      return address;
    }
    try {
      // a literal address (what the servlet container gives): no name is looked up
      byte[] bytes = InetAddress.getByName(address).getAddress();
      return bytes.length == 16 ? "v6/" + Arrays.toString(Arrays.copyOf(bytes, 8)) : address;
    } catch (UnknownHostException | SecurityException e) {
      return address;
    }
  }
}
