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
  /** The JVM's resolver ({@link InetAddress#getAllByName}); an IP literal resolves to itself. */
  HostResolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));

  /** Every address of {@code host} (a name, or an IP literal without brackets). Blocks. */
  List<InetAddress> resolve(String host) throws UnknownHostException;
}
