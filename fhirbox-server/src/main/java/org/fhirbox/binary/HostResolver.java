package org.fhirbox.binary;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Turns a host of a URL to fetch into its addresses: the system's resolver, or a test's (as a
 * {@link java.time.Clock} is injected). {@link SafeFetcher} judges every address it returns and
 * connects only to those.
 */
@FunctionalInterface
public interface HostResolver {
  /**
   * The JVM's resolver ({@link InetAddress#getAllByName}); an IP literal resolves to itself. A
   * lookup the resolver failed (SERVFAIL, no answer) is a {@link TemporaryFailure}: see {@code SystemResolver}.
   */
  HostResolver SYSTEM = new SystemResolver();

  /**
   * Every address of {@code host} (a name, or an IP literal without brackets). Blocks. Throws
   * {@link UnknownHostException} when the name has no address (it does not exist, or has no
   * address record), and its subclass {@link TemporaryFailure} when the resolver could not say.
   */
  List<InetAddress> resolve(String host) throws UnknownHostException;

  /**
   * The resolver could not answer for a host: the DNS server failed (SERVFAIL) or could not be
   * reached. Unlike a plain {@link UnknownHostException} it does not mean the name does not exist,
   * and the same lookup may succeed later.
   */
  final class TemporaryFailure extends UnknownHostException {
    private final String reason;

    /** {@code reason}: what the resolver said, such as "Temporary failure in name resolution". */
    public TemporaryFailure(String host, String reason) {
      super(host + ": " + reason);
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }
}
