package org.fhirbox.binary;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * A block of IP addresses in CIDR notation (RFC 4632 §3.1, RFC 4291 §2.3): {@code 10.20.0.0/16},
 * {@code fd12:3456::/32}; a bare address is a block of one. The address must be the block's
 * first, so that {@code 10.0.0.1/8} (meant as 10.0.0.0/8, or as the one address?) is refused.
 */
record AddressBlock(byte[] network, int prefixLength) {
  /** Parses {@code cidr}; the message of the exception names {@code setting}. */
  static AddressBlock parse(String cidr, String setting) {
    String s = cidr.trim();
    int slash = s.indexOf('/');
    String ip = slash < 0 ? s : s.substring(0, slash);
    byte[] network;
    if (!AddressGuard.isLiteral(ip)) {
      throw invalid(cidr, setting); // "cafe/16" is hex to a regex, and a name to InetAddress: never looked up
    }
    try {
      FetchUrl.requireUnambiguousHost(ip); // 010.0.0.0 is 8.0.0.0 to some readers, 10.0.0.0 to Java
      network = AddressGuard.literal(ip).getAddress();
    } catch (IllegalArgumentException e) {
      throw invalid(cidr, setting);
    }
    int bits = network.length * 8;
    int length = bits;
    if (slash >= 0) {
      String n = s.substring(slash + 1);
      if (!n.matches("[0-9]{1,3}") || Integer.parseInt(n) > bits) {
        throw invalid(cidr, setting);
      }
      length = Integer.parseInt(n);
    }
    AddressBlock block = new AddressBlock(network, length);
    if (!Arrays.equals(network, block.masked(network))) {
      throw invalid(cidr, setting);
    }
    return block;
  }

  private static IllegalArgumentException invalid(String cidr, String setting) {
    return new IllegalArgumentException(setting + ": '" + cidr + "' is not a block of IP addresses such as"
        + " 10.20.0.0/16 or fd12:3456::/32 (an IP literal, '/', the prefix length; no host bits set)");
  }

  boolean contains(InetAddress a) {
    byte[] b = a.getAddress();
    return b.length == network.length && Arrays.equals(masked(b), network);
  }

  private byte[] masked(byte[] b) {
    byte[] out = b.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.max(0, Math.min(8, prefixLength - i * 8));
      out[i] &= (byte) (0xff << (8 - keep));
    }
    return out;
  }
}
