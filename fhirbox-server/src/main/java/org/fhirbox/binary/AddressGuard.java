package org.fhirbox.binary;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * Which IP addresses an ingestion fetch may connect to by default: public unicast only. Refused:
 * unspecified, loopback, link-local (incl. cloud metadata 169.254.169.254 and fe80::/10), the
 * other cloud metadata addresses fd00:ec2::254 and 100.100.100.200,
 * private (10/8, 172.16/12, 192.168/16, fc00::/7, deprecated fec0::/10), CGNAT 100.64/10,
 * multicast, broadcast and the other IANA special-purpose IPv4 blocks that are not globally
 * reachable (the deprecated 6to4 relay anycast 192.88.99.0/24 of RFC 7526 among them), the IPv6 documentation
 * ranges 2001:db8::/32 and 3fff::/20, the IETF protocol assignments 2001::/23 (Teredo 2001::/32,
 * benchmarking, ORCHID), discard-only 100::/64 and 100:0:0:1::/64, SRv6 5f00::/16, and every
 * IPv6 form that embeds one of those IPv4 addresses (IPv4-mapped, IPv4-compatible,
 * IPv4-translated ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4). The rest of 64:ff9b::/32 is refused outright:
 * the local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215) translates to addresses inside a network.
 * Checked against the IANA IPv4 and IPv6 Special-Purpose Address Registries
 * (iana.org/assignments/iana-ipv4-special-registry, iana-ipv6-special-registry): every block
 * they mark not globally reachable is refused; of the globally reachable ones only those inside
 * 2001::/23 (anycast services, AS112, AMT, ORCHIDv2: none a host of content) are refused too, and
 * 64:ff9b::/96 and 2002::/16 are judged by the IPv4 address in them.
 */
public final class AddressGuard {
  private static final Pattern IPV4_LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  private static final String LINK_LOCAL = "link-local address";
  private static final String METADATA = "cloud metadata address";
  private static final byte[] AWS_METADATA_V6 = literal("fd00:ec2::254").getAddress();

  private AddressGuard() {}

  /**
   * Whether {@code a} is link-local (169.254.0.0/16, fe80::/10, or one embedded in IPv6) or the
   * instance metadata service of a cloud that sits elsewhere (AWS's IPv6 fd00:ec2::254, Alibaba
   * Cloud's 100.100.100.200): where a server's own credentials are handed out. An allowed internal
   * block never lifts the guard for these; only an allow-list prefix with the IP literal does.
   */
  public static boolean isLinkLocalOrMetadata(InetAddress a) {
    String r = refusal(a);
    return r != null && (r.startsWith(LINK_LOCAL) || r.startsWith(METADATA));
  }

  /** The reason {@code a} is refused, or null when it is a public unicast address. */
  public static String refusal(InetAddress a) {
    if (a instanceof Inet4Address v4) {
      return refusal4(v4.getAddress());
    }
    byte[] b = a.getAddress();
    Inet6Address v6 = (Inet6Address) a;
    if (v6.isAnyLocalAddress()) {
      return "unspecified address";
    }
    if (v6.isLoopbackAddress()) {
      return "loopback address";
    }
    if (v6.isLinkLocalAddress()) {
      return LINK_LOCAL;
    }
    if (Arrays.equals(b, AWS_METADATA_V6)) {
      return METADATA;
    }
    if (v6.isSiteLocalAddress() || (b[0] & 0xfe) == 0xfc) {
      return "private address";
    }
    if (v6.isMulticastAddress()) {
      return "multicast address";
    }
    if (isZero(b, 0, 10) && ((b[10] == (byte) 0xff && b[11] == (byte) 0xff) || (b[10] == 0 && b[11] == 0))) {
      // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible). Java usually hands mapped addresses
      // over as Inet4Address already; this covers the rest.
      return embedded(b, 12);
    }
    if ((b[0] & 0xff) == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) {
      if (isZero(b, 4, 12)) {
        return embedded(b, 12); // the well-known NAT64 prefix 64:ff9b::/96
      }
      // 64:ff9b:1::/48 is for translation inside a network (RFC 8215), with an operator's own
      // prefix length, so where the IPv4 address sits is unknown; the rest is not assigned
      return (b[4] & 0xff) == 0 && (b[5] & 0xff) == 1 ? "local-use NAT64 address" : "reserved NAT64 address";
    }
    if (isZero(b, 0, 8) && b[8] == (byte) 0xff && b[9] == (byte) 0xff && b[10] == 0 && b[11] == 0) {
      // ::ffff:0:a.b.c.d, IPv4-translated (SIIT, RFC 6052 §2.1, RFC 7915): a translator maps it to the IPv4 address
      return embedded(b, 12);
    }
    if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02) {
      return embedded(b, 2);
    }
    if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01 && b[2] == 0 && b[3] == 0) {
      // 2001::/32 (RFC 4380): a relay reaches the client's IPv4 address, which sits obfuscated in it
      return "Teredo address";
    }
    if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01 && (b[2] & 0xfe) == 0) {
      // 2001::/23, IETF protocol assignments (RFC 2928): not globally reachable (IANA IPv6
      // special-purpose registry, RFC 6890), among them benchmarking 2001:2::/48 (RFC 5180) and
      // ORCHID 2001:10::/28 (RFC 4843). The global exceptions are anycast services, not hosts of content.
      return "IETF protocol assignment address";
    }
    if ((b[0] & 0xff) == 0x01 && isZero(b, 1, 7) && ((b[7] & 0xff) == 0 || (b[7] & 0xff) == 1)) {
      return "discard-only address"; // 100::/64 (RFC 6666), the dummy prefix 100:0:0:1::/64 (RFC 9780)
    }
    if ((b[0] & 0xff) == 0x5f && b[1] == 0) {
      return "segment routing address"; // 5f00::/16, SRv6 SIDs inside an operator's domain (RFC 9602)
    }
    if (((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01 && (b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8)
        || ((b[0] & 0xff) == 0x3f && (b[1] & 0xff) == 0xff && (b[2] & 0xf0) == 0)) {
      return "documentation address"; // 2001:db8::/32 (RFC 3849), 3fff::/20 (RFC 9637)
    }
    return null;
  }

  public static boolean isPublic(InetAddress a) {
    return refusal(a) == null;
  }

  private static String embedded(byte[] b, int offset) {
    byte[] v4 = new byte[] {b[offset], b[offset + 1], b[offset + 2], b[offset + 3]};
    String r = refusal4(v4);
    return r == null ? null : r + " (embedded in IPv6)";
  }

  private static String refusal4(byte[] b) {
    int o0 = b[0] & 0xff;
    int o1 = b[1] & 0xff;
    int o2 = b[2] & 0xff;
    if (o0 == 0) {
      return "unspecified address";
    }
    if (o0 == 127) {
      return "loopback address";
    }
    if (o0 == 169 && o1 == 254) {
      return LINK_LOCAL;
    }
    if (o0 == 100 && o1 == 100 && o2 == 100 && (b[3] & 0xff) == 200) {
      return METADATA;
    }
    if (o0 == 10 || (o0 == 172 && o1 >= 16 && o1 <= 31) || (o0 == 192 && o1 == 168)) {
      return "private address";
    }
    if (o0 == 100 && o1 >= 64 && o1 <= 127) {
      return "shared (CGNAT) address";
    }
    if (o0 >= 224 && o0 <= 239) {
      return "multicast address";
    }
    if (o0 == 255 && o1 == 255 && o2 == 255 && (b[3] & 0xff) == 255) {
      return "broadcast address";
    }
    if (o0 >= 240) {
      return "reserved address";
    }
    // IANA IPv4 Special-Purpose Address Registry (RFC 6890): IETF protocol assignments 192.0.0/24,
    // TEST-NET-1/2/3 (RFC 5737), benchmarking 198.18/15 (RFC 2544), and the 6to4 relay anycast
    // 192.88.99/24 that RFC 7526 deprecated, not globally reachable: a network may still route it
    // to a relay of its own. The registry's globally reachable blocks (AS112 192.31.196/24 and
    // 192.175.48/24, AMT 192.52.193/24) stay allowed.
    if ((o0 == 192 && o1 == 0 && (o2 == 0 || o2 == 2)) || (o0 == 198 && (o1 == 18 || o1 == 19))
        || (o0 == 198 && o1 == 51 && o2 == 100) || (o0 == 203 && o1 == 0 && o2 == 113)
        || (o0 == 192 && o1 == 88 && o2 == 99)) {
      return "special-purpose address";
    }
    return null;
  }

  private static boolean isZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code host} (without brackets) is an IPv6 literal or a dotted-quad IPv4 one, not a name. */
  static boolean isLiteral(String host) {
    return host.indexOf(':') >= 0 || IPV4_LITERAL.matcher(host).matches();
  }

  /** Parses an IP literal without DNS (for tests and configuration). */
  public static InetAddress literal(String ip) {
    if (!ip.matches("[0-9a-fA-F:.]+")) {
      throw new IllegalArgumentException("not an IP literal: " + ip);
    }
    try {
      return InetAddress.getByName(ip);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP literal: " + ip, e);
    }
  }
}
