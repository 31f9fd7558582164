package org.fhirbox.binary;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.Security;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * The JVM's resolver ({@link InetAddress#getAllByName}), telling a resolver that could not answer
 * from a name that has no address. The JDK reports both as an {@link UnknownHostException} whose
 * message is the host and getaddrinfo's text: "Temporary failure in name resolution" (EAI_AGAIN:
 * SERVFAIL, or no server answered in the resolver's time) and "Non-recoverable failure in name
 * resolution" (EAI_FAIL: the server refused or could not be asked) are failures of the resolver,
 * thrown as {@link HostResolver.TemporaryFailure}; "Name or service not known" (NXDOMAIN) and "No
 * address associated with hostname" are answers, thrown as they are.
 *
 * <p>The JDK caches a failed lookup too ({@code networkaddress.cache.negative.ttl}, 10 s by
 * default), and one it answers from that cache carries the host alone. So a host whose lookup
 * failed is remembered as long as the JDK caches it, and such an answer for it is the same failure.
 */
final class SystemResolver implements HostResolver {
  private static final Pattern RESOLVER_FAILED =
      Pattern.compile("temporary failure|non-recoverable failure", Pattern.CASE_INSENSITIVE);
  /** Hosts remembered at most; past it the expired ones go, and if none has, all do. */
  static final int MAX_REMEMBERED = 10_000;

  private final HostResolver lookup;
  private final long rememberNanos;
  private final LongSupplier nanoTime;
  /** A host whose last lookup the resolver failed, and when and why. */
  private final Map<String, Failed> failed = new ConcurrentHashMap<>();

  private record Failed(long at, String reason) {}

  SystemResolver() {
    this(host -> List.of(InetAddress.getAllByName(host)), negativeCacheNanos(), System::nanoTime);
  }

  /** {@code rememberNanos}: how long the JDK answers a failed lookup from its cache (negative: for ever). */
  SystemResolver(HostResolver lookup, long rememberNanos, LongSupplier nanoTime) {
    this.lookup = lookup;
    this.rememberNanos = rememberNanos;
    this.nanoTime = nanoTime;
  }

  @Override
  public List<InetAddress> resolve(String host) throws UnknownHostException {
    List<InetAddress> found;
    try {
      found = lookup.resolve(host);
    } catch (TemporaryFailure e) {
      throw e;
    } catch (UnknownHostException e) {
      String message = e.getMessage() == null ? "" : e.getMessage();
      String prefix = host + ": ";
      if (message.startsWith(prefix)) {
        String reason = message.substring(prefix.length());
        if (RESOLVER_FAILED.matcher(reason).find()) {
          remember(host, reason);
          throw new TemporaryFailure(host, reason);
        }
        failed.remove(host);
        throw e;
      }
      Failed earlier = failed.get(host);
      if (earlier != null && (rememberNanos < 0 || nanoTime.getAsLong() - earlier.at() <= rememberNanos)) {
        // the JDK's cache of the failed lookup, which it answers without the reason
        throw new TemporaryFailure(host, earlier.reason());
      }
      throw e;
    }
    failed.remove(host);
    return found;
  }

  private void remember(String host, String reason) {
    long now = nanoTime.getAsLong();
    if (failed.size() >= MAX_REMEMBERED) {
      failed.values().removeIf(f -> rememberNanos >= 0 && now - f.at() > rememberNanos);
      if (failed.size() >= MAX_REMEMBERED) {
        failed.clear();
      }
    }
    failed.put(host, new Failed(now, reason));
  }

  /**
   * How long the JDK caches a failed lookup: the security property
   * {@code networkaddress.cache.negative.ttl}, else the system property
   * {@code sun.net.inetaddr.negative.ttl}, else 10 s; a second more, as the JDK counts from its
   * own moment. Negative (-1) caches for ever.
   */
  static long negativeCacheNanos() {
    String ttl = Security.getProperty("networkaddress.cache.negative.ttl");
    if (ttl == null) {
      ttl = System.getProperty("sun.net.inetaddr.negative.ttl");
    }
    long seconds = 10;
    try {
      if (ttl != null) {
        seconds = Long.parseLong(ttl.trim());
      }
    } catch (NumberFormatException e) {
      // the JDK keeps its default for a value it cannot read, and so does this
    }
    return seconds < 0 ? -1 : TimeUnit.SECONDS.toNanos(seconds + 1);
  }
}
